//! Operators: register, stake, unbond, withdraw, served models, deregister.
pub mod deregister_operator;
pub mod register_operator;
pub mod request_unstake;
pub mod set_served_models;
pub mod stake;
pub mod withdraw_stake;

pub use {
    deregister_operator::*, register_operator::*, request_unstake::*, set_served_models::*, stake::*, withdraw_stake::*,
};

use {crate::errors::VerityError, anchor_lang::prelude::*};

/// Rejects bitmaps naming model indices that were never registered.
pub fn check_served_models(served_models: u64, model_count: u16) -> Result<()> {
    let known = if model_count >= 64 { u64::MAX } else { (1u64 << model_count).wrapping_sub(1) };
    require!(served_models & !known == 0, VerityError::UnknownModelIndex);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_models_bitmap_bounds() {
        assert!(check_served_models(0, 0).is_ok());
        assert!(check_served_models(0b111, 3).is_ok());
        assert_eq!(check_served_models(0b1000, 3).unwrap_err(), VerityError::UnknownModelIndex.into());
        assert_eq!(check_served_models(1, 0).unwrap_err(), VerityError::UnknownModelIndex.into());
        assert!(check_served_models(u64::MAX, 64).is_ok());
    }
}
