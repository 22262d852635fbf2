//! `OperatorRegistry`: the bounded on-chain list the committee draw reads, so the cranker cannot choose the
//! candidate set. Kept in sync by every instruction that changes an operator's stake, models or membership.
use {
    crate::{constants::MAX_OPERATORS, errors::VerityError, state::Operator},
    anchor_lang::prelude::*,
};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace)]
pub struct RegistryEntry {
    /// Operator authority (its `Operator` PDA is [`OPERATOR_SEED`, authority]).
    pub authority: Pubkey,
    /// Mirrors `Operator.stake` (the draw weight).
    pub stake: u64,
    /// Mirrors `Operator.served_models`.
    pub served_models: u64,
    /// True while `Operator.unbonding > 0`: not drawn (so it can reach zero open assignments and withdraw).
    pub unbonding: bool,
    /// Committees the operator sits on whose request is not finalized/expired yet.
    pub open_assignments: u32,
}

impl RegistryEntry {
    /// Whether this operator may be drawn for a request of model bit `model_bit`.
    pub fn eligible(&self, model_bit: u64, min_stake: u64) -> bool {
        !self.unbonding && self.stake >= min_stake && self.stake > 0 && self.served_models & model_bit != 0
    }
}

#[account]
#[derive(InitSpace, Debug, Default)]
pub struct OperatorRegistry {
    #[max_len(MAX_OPERATORS)]
    pub entries: Vec<RegistryEntry>,
    pub bump: u8,
}

impl OperatorRegistry {
    /// Adds a fresh entry for `authority`.
    pub fn add(&mut self, authority: Pubkey) -> Result<()> {
        require!(self.entries.len() < MAX_OPERATORS, VerityError::RegistryFull);
        self.entries.push(RegistryEntry { authority, ..Default::default() });
        Ok(())
    }

    /// Index of `authority`'s entry.
    pub fn position(&self, authority: &Pubkey) -> Result<usize> {
        self.entries
            .iter()
            .position(|e| e.authority == *authority)
            .ok_or_else(|| error!(VerityError::OperatorNotInRegistry))
    }

    /// Mutable entry of `authority`.
    pub fn entry_mut(&mut self, authority: &Pubkey) -> Result<&mut RegistryEntry> {
        let i = self.position(authority)?;
        self.entries.get_mut(i).ok_or_else(|| error!(VerityError::OperatorNotInRegistry))
    }

    /// Copies stake, unbonding flag and served models from the operator's books.
    pub fn sync(&mut self, op: &Operator) -> Result<()> {
        let e = self.entry_mut(&op.authority)?;
        e.stake = op.stake;
        e.unbonding = op.unbonding > 0;
        e.served_models = op.served_models;
        Ok(())
    }

    /// Removes `authority` (requires no open assignments).
    pub fn remove(&mut self, authority: &Pubkey) -> Result<()> {
        let i = self.position(authority)?;
        let open = self.entries.get(i).map(|e| e.open_assignments).unwrap_or(0);
        require!(open == 0, VerityError::OpenAssignments);
        self.entries.swap_remove(i);
        Ok(())
    }

    /// Changes `authority`'s open assignment count by +1 or −1.
    pub fn adjust_open(&mut self, authority: &Pubkey, increase: bool) -> Result<()> {
        let e = self.entry_mut(authority)?;
        e.open_assignments = if increase {
            e.open_assignments.checked_add(1)
        } else {
            e.open_assignments.checked_sub(1)
        }
        .ok_or(VerityError::MathOverflow)?;
        Ok(())
    }

    /// Open assignments of `authority`.
    pub fn open_assignments(&self, authority: &Pubkey) -> Result<u32> {
        let i = self.position(authority)?;
        Ok(self.entries.get(i).map(|e| e.open_assignments).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_sync_remove() {
        let mut r = OperatorRegistry::default();
        let a = Pubkey::new_unique();
        r.add(a).unwrap();
        let op = Operator { authority: a, stake: 5, unbonding: 1, served_models: 0b10, ..Default::default() };
        r.sync(&op).unwrap();
        assert_eq!(r.entries[0], RegistryEntry { authority: a, stake: 5, served_models: 2, unbonding: true, open_assignments: 0 });
        assert!(!r.entries[0].eligible(2, 1), "unbonding operators are not drawn");
        r.adjust_open(&a, true).unwrap();
        assert_eq!(r.remove(&a).unwrap_err(), VerityError::OpenAssignments.into());
        r.adjust_open(&a, false).unwrap();
        assert_eq!(r.adjust_open(&a, false).unwrap_err(), VerityError::MathOverflow.into());
        r.remove(&a).unwrap();
        assert_eq!(r.position(&a).unwrap_err(), VerityError::OperatorNotInRegistry.into());
    }

    #[test]
    fn full_registry() {
        let mut r = OperatorRegistry::default();
        for _ in 0..MAX_OPERATORS {
            r.add(Pubkey::new_unique()).unwrap();
        }
        assert_eq!(r.add(Pubkey::new_unique()).unwrap_err(), VerityError::RegistryFull.into());
    }

    #[test]
    fn eligibility() {
        let e = RegistryEntry { stake: 10, served_models: 0b1, ..Default::default() };
        assert!(e.eligible(0b1, 10));
        assert!(!e.eligible(0b1, 11));
        assert!(!e.eligible(0b10, 1));
    }
}
