//! `Sampling`: a request's decoding parameters — temperature and top-p in milli-units and a seed — which the
//! nodes apply by oracle/NUMERICS.md §7 (temperature 0 = greedy).
use {
    crate::{constants::*, errors::VerityError},
    anchor_lang::prelude::*,
};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct Sampling {
    /// Temperature × 1000 (0 = greedy, at most [`MAX_TEMPERATURE_MILLI`]).
    pub temperature_milli: u16,
    /// Nucleus mass × 1000 (1..=1000; 1000 = no truncation).
    pub top_p_milli: u16,
    /// Keys the counter-based RNG with the request and the token index.
    pub seed: u64,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling::GREEDY
    }
}

impl Sampling {
    /// Greedy decoding: the first maximum logit.
    pub const GREEDY: Sampling = Sampling { temperature_milli: 0, top_p_milli: 1000, seed: 0 };

    /// Both parameters in range (top-p is checked even when greedy, so a request has one meaning).
    pub fn check(&self) -> Result<()> {
        require!(self.temperature_milli <= MAX_TEMPERATURE_MILLI, VerityError::InvalidSampling);
        require!(self.top_p_milli >= 1 && self.top_p_milli <= 1000, VerityError::InvalidSampling);
        Ok(())
    }
}
