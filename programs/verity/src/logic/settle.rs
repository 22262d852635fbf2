//! Settlement math: majority tally, fee split and slash distribution (integer, remainders to the treasury).
use {
    crate::{
        constants::{BPS_DENOMINATOR, MAX_MEMBERS},
        errors::VerityError,
        state::{Member, MemberState},
    },
    anchor_lang::prelude::*,
};

/// A revealed hash held by a strict majority of a committee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Majority {
    pub hash: [u8; 32],
    /// Members that revealed it (> committee_len / 2).
    pub count: u8,
}

/// The revealed hash held by a strict majority (> committee_len / 2) of the committee, with its count.
pub fn tally(members: &[Member]) -> Option<Majority> {
    let n = members.len();
    members.iter().take(MAX_MEMBERS).filter(|m| m.state == MemberState::Revealed).find_map(|m| {
        let count =
            members.iter().filter(|o| o.state == MemberState::Revealed && o.output_hash == m.output_hash).count();
        (count.saturating_mul(2) > n)
            .then(|| Majority { hash: m.output_hash, count: u8::try_from(count).unwrap_or(u8::MAX) })
    })
}

/// How a fee is divided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeSplit {
    pub royalty: u64,
    /// Protocol fee plus the integer remainder of the per-member share.
    pub treasury: u64,
    pub per_member: u64,
}

/// `royalty = fee·royalty_bps/10⁴`, `protocol = fee·protocol_bps/10⁴`, the rest equally to `majority`
/// members; the remainder of that division goes to the treasury with the protocol fee.
pub fn split_fee(fee: u64, royalty_bps: u16, protocol_bps: u16, majority: u8) -> Result<FeeSplit> {
    require!(majority > 0, VerityError::MathOverflow);
    let royalty = bps_of(fee, royalty_bps)?;
    let protocol = bps_of(fee, protocol_bps)?;
    let rest = fee.checked_sub(royalty).and_then(|x| x.checked_sub(protocol)).ok_or(VerityError::MathOverflow)?;
    let per_member = rest.checked_div(u64::from(majority)).ok_or(VerityError::MathOverflow)?;
    let remainder = rest.checked_rem(u64::from(majority)).ok_or(VerityError::MathOverflow)?;
    let treasury = protocol.checked_add(remainder).ok_or(VerityError::MathOverflow)?;
    Ok(FeeSplit { royalty, treasury, per_member })
}

/// Slashed stake split: (treasury part, per honest member). With no honest members, all goes to the treasury.
pub fn split_slashed(total: u64, treasury_bps: u16, honest: u8) -> Result<(u64, u64)> {
    if honest == 0 {
        return Ok((total, 0));
    }
    let to_treasury = bps_of(total, treasury_bps)?;
    let rest = total.checked_sub(to_treasury).ok_or(VerityError::MathOverflow)?;
    let per = rest.checked_div(u64::from(honest)).ok_or(VerityError::MathOverflow)?;
    let remainder = rest.checked_rem(u64::from(honest)).ok_or(VerityError::MathOverflow)?;
    Ok((to_treasury.checked_add(remainder).ok_or(VerityError::MathOverflow)?, per))
}

/// `amount · bps / 10⁴`, rounded down.
pub fn bps_of(amount: u64, bps: u16) -> Result<u64> {
    let v = u128::from(amount)
        .checked_mul(u128::from(bps))
        .and_then(|x| x.checked_div(u128::from(BPS_DENOMINATOR)))
        .ok_or(VerityError::MathOverflow)?;
    Ok(u64::try_from(v).map_err(|_| VerityError::MathOverflow)?)
}

/// Lower median (element `(n−1)/2` after sorting); 0 for an empty list.
pub fn lower_median(mut values: Vec<u64>) -> u64 {
    values.sort_unstable();
    let mid = values.len().saturating_sub(1) / 2;
    values.get(mid).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revealed(h: u8) -> Member {
        Member { state: MemberState::Revealed, output_hash: [h; 32], ..Member::new(Pubkey::new_unique()) }
    }

    #[test]
    fn strict_majority() {
        assert_eq!(tally(&[revealed(1), revealed(1), revealed(2)]), Some(Majority { hash: [1; 32], count: 2 }));
        assert_eq!(tally(&[revealed(1), revealed(2), revealed(3)]), None);
        let silent = Member::new(Pubkey::new_unique());
        assert_eq!(tally(&[revealed(1), silent, silent]), None, "1 of 3 is no majority");
        assert_eq!(tally(&[revealed(1), revealed(1), revealed(2), revealed(2)]), None, "2 of 4 is not strict");
        assert_eq!(tally(&[revealed(4)]), Some(Majority { hash: [4; 32], count: 1 }));
    }

    #[test]
    fn fee_split_conserves() {
        let s = split_fee(1_000_003, 1000, 500, 3).unwrap();
        assert_eq!(s.royalty, 100_000);
        assert_eq!(s.per_member, (1_000_003 - 100_000 - 50_000) / 3);
        assert_eq!(s.royalty + s.treasury + 3 * s.per_member, 1_000_003);
        assert_eq!(split_fee(0, 1000, 500, 1).unwrap(), FeeSplit { royalty: 0, treasury: 0, per_member: 0 });
    }

    #[test]
    fn slashed_split_conserves() {
        let (t, per) = split_slashed(101, 5000, 2).unwrap();
        assert_eq!((t, per), (51, 25));
        assert_eq!(t + 2 * per, 101);
        assert_eq!(split_slashed(7, 0, 0).unwrap(), (7, 0));
    }

    #[test]
    fn medians() {
        assert_eq!(lower_median(vec![5, 1, 3]), 3);
        assert_eq!(lower_median(vec![4, 1]), 1);
        assert_eq!(lower_median(vec![]), 0);
    }
}
