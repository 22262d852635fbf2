//! `Operator`: an oracle operator's stake books and performance counters.
use {crate::errors::VerityError, anchor_lang::prelude::*};

#[account]
#[derive(InitSpace, Debug, Default)]
pub struct Operator {
    /// The node's signing key: signs commits/reveals and staking instructions; PDA seed.
    pub authority: Pubkey,
    /// Bonded stake (token base units) held in the vault; drawable while nothing is unbonding.
    pub stake: u64,
    /// Stake leaving the vault at `release_slot`; still slashable.
    pub unbonding: u64,
    /// Earliest slot `withdraw_stake` may run (set by the latest `request_unstake`).
    pub release_slot: u64,
    /// Bitmap of served model indices.
    pub served_models: u64,
    /// Counters, updated when a request the operator sat on is finalized.
    pub assigned: u64,
    pub agreed: u64,
    pub minority: u64,
    /// Commit without reveal, or no commit.
    pub missed: u64,
    pub slashed_total: u64,
    pub earned_total: u64,
    /// Σ (reveal slot − assign slot) over revealed assignments.
    pub latency_slots_sum: u64,
    pub registered_slot: u64,
    pub bump: u8,
    /// Work credited for each round the operator's answer was in the majority of: Σ the round's lower-median
    /// tokens (in + out), and Σ ≈FLOPs (2 × the model's param_count × those tokens). Saturating. (Appended.)
    pub tokens_served: u64,
    pub flops_served: u128,
}

impl Operator {
    /// Bonds `amount` more stake.
    pub fn add_stake(&mut self, amount: u64) -> Result<()> {
        require!(amount > 0, VerityError::ZeroAmount);
        self.stake = self.stake.checked_add(amount).ok_or(VerityError::MathOverflow)?;
        Ok(())
    }

    /// Moves `amount` from stake to unbonding; the release slot restarts at `now + unbonding_slots`.
    pub fn start_unbonding(&mut self, amount: u64, now: u64, unbonding_slots: u64) -> Result<()> {
        require!(amount > 0, VerityError::ZeroAmount);
        require!(amount <= self.stake, VerityError::InsufficientStake);
        self.stake = self.stake.checked_sub(amount).ok_or(VerityError::MathOverflow)?;
        self.unbonding = self.unbonding.checked_add(amount).ok_or(VerityError::MathOverflow)?;
        self.release_slot = now.checked_add(unbonding_slots).ok_or(VerityError::MathOverflow)?;
        Ok(())
    }

    /// Empties unbonding after the release slot and returns the amount to pay out.
    pub fn take_unbonded(&mut self, now: u64) -> Result<u64> {
        require!(self.unbonding > 0, VerityError::NothingUnbonding);
        require!(now >= self.release_slot, VerityError::UnbondingNotElapsed);
        let amount = self.unbonding;
        self.unbonding = 0;
        Ok(amount)
    }

    /// Takes `slash_bps` of (stake + unbonding), from stake first, then unbonding. Returns the amount taken.
    pub fn slash(&mut self, slash_bps: u16) -> Result<u64> {
        let total = u128::from(self.stake).checked_add(u128::from(self.unbonding)).ok_or(VerityError::MathOverflow)?;
        let amount = total
            .checked_mul(u128::from(slash_bps))
            .and_then(|x| x.checked_div(u128::from(crate::constants::BPS_DENOMINATOR)))
            .ok_or(VerityError::MathOverflow)?;
        let amount = u64::try_from(amount).map_err(|_| VerityError::MathOverflow)?;
        let from_stake = amount.min(self.stake);
        let from_unbonding = amount.checked_sub(from_stake).ok_or(VerityError::MathOverflow)?;
        self.stake = self.stake.checked_sub(from_stake).ok_or(VerityError::MathOverflow)?;
        self.unbonding = self.unbonding.checked_sub(from_unbonding).ok_or(VerityError::MathOverflow)?;
        self.slashed_total = self.slashed_total.checked_add(amount).ok_or(VerityError::MathOverflow)?;
        Ok(amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unbonding_flow() {
        let mut op = Operator::default();
        assert_eq!(op.add_stake(0).unwrap_err(), VerityError::ZeroAmount.into());
        op.add_stake(100).unwrap();
        assert_eq!(op.start_unbonding(101, 5, 10).unwrap_err(), VerityError::InsufficientStake.into());
        op.start_unbonding(40, 5, 10).unwrap();
        assert_eq!((op.stake, op.unbonding, op.release_slot), (60, 40, 15));
        assert_eq!(op.take_unbonded(14).unwrap_err(), VerityError::UnbondingNotElapsed.into());
        assert_eq!(op.take_unbonded(15).unwrap(), 40);
        assert_eq!(op.take_unbonded(16).unwrap_err(), VerityError::NothingUnbonding.into());
    }

    #[test]
    fn slash_takes_stake_then_unbonding() {
        let mut op = Operator { stake: 10, unbonding: 90, ..Default::default() };
        // 50 % of 100 = 50: 10 from stake, 40 from unbonding.
        assert_eq!(op.slash(5000).unwrap(), 50);
        assert_eq!((op.stake, op.unbonding, op.slashed_total), (0, 50, 50));
        assert_eq!(op.slash(0).unwrap(), 0);
        assert_eq!(op.slash(10_000).unwrap(), 50);
        assert_eq!((op.stake, op.unbonding, op.slashed_total), (0, 0, 100));
    }
}
