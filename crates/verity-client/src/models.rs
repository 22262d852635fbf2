//! The served-models bitmap (`Operator.served_models`): bit `i` set = serves the model registered at index `i`.
use verity::constants::MAX_MODELS;

/// The bit of model index `index`, or `None` past the bitmap.
pub fn bit(index: u8) -> Option<u64> {
    if u16::from(index) < MAX_MODELS {
        1u64.checked_shl(u32::from(index))
    } else {
        None
    }
}

/// Whether `mask` serves model index `index`.
pub fn serves(mask: u64, index: u8) -> bool {
    bit(index).is_some_and(|b| mask & b != 0)
}

/// The mask of the given model indices (`None` if one is past the bitmap).
pub fn mask(indices: impl IntoIterator<Item = u8>) -> Option<u64> {
    indices.into_iter().try_fold(0u64, |m, i| bit(i).map(|b| m | b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_cover_exactly_the_registry() {
        assert_eq!(bit(0), Some(1));
        assert_eq!(bit(63), Some(1 << 63));
        assert_eq!(bit(64), None);
        assert_eq!(mask([0, 2, 5]), Some(0b100101));
        assert_eq!(mask([1, 64]), None);
        assert!(serves(0b100, 2) && !serves(0b100, 1) && !serves(u64::MAX, 64));
    }
}
