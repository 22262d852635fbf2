//! `OperatorRegistry`: the bounded on-chain list the committee draw reads, so the cranker cannot choose the
//! candidate set. Every change to an operator's draw inputs (stake, served models, unbonding) takes effect
//! `delay = assign_window + 1` slots after it is made, and the draw for a request uses the values in force at its
//! `submit_slot` — fixed before the seed slot's hash exists, so nobody can grind the committee after seeing it.
//! A change made while another is pending replaces it but keeps its effective slot (a pending change is never
//! postponed), and an entry is never removed while it may still be drawn or its operator must stay slashable
//! (`locked_until`, `open_assignments`).
use {
    crate::{constants::MAX_OPERATORS, errors::VerityError, state::Operator},
    anchor_lang::prelude::*,
};

/// Draw inputs of one operator, in force from `effective_slot`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace)]
pub struct DrawValues {
    pub stake: u64,
    pub served_models: u64,
    pub unbonding: bool,
    pub effective_slot: u64,
}

impl DrawValues {
    /// Whether these values make the operator drawable for model bit `model_bit`.
    pub fn eligible(&self, model_bit: u64, min_stake: u64) -> bool {
        !self.unbonding && self.stake >= min_stake && self.stake > 0 && self.served_models & model_bit != 0
    }

    /// The draw inputs of `op`'s books (not in force yet: `effective_slot` 0).
    fn of(op: &Operator) -> DrawValues {
        DrawValues { stake: op.stake, served_models: op.served_models, unbonding: op.unbonding > 0, effective_slot: 0 }
    }

    /// Not drawable for any model.
    fn idle(&self, min_stake: u64) -> bool {
        self.unbonding || self.stake == 0 || self.stake < min_stake || self.served_models == 0
    }

    /// The weight a draw reading these values could give the operator, whatever the min stake.
    fn drawable_stake(&self) -> u64 {
        if self.unbonding || self.served_models == 0 {
            0
        } else {
            self.stake
        }
    }

    fn same(&self, o: &DrawValues) -> bool {
        (self.stake, self.served_models, self.unbonding) == (o.stake, o.served_models, o.unbonding)
    }
}

/// Slot-dependent parameters of registry updates.
#[derive(Clone, Copy, Debug)]
pub struct RegistryClock {
    pub now: u64,
    /// `Config.params.assign_window`; changes take effect `assign_window + 1` slots after they are made.
    pub assign_window: u64,
    /// The smallest min stake any still-assignable draw may use (`Config::removal_min_stake`).
    pub min_stake: u64,
}

impl RegistryClock {
    /// The oldest slot whose values a still-assignable draw may read (`now − assign_window`).
    pub fn oldest_readable(&self) -> u64 {
        self.now.saturating_sub(self.assign_window)
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace)]
pub struct RegistryEntry {
    /// Operator authority (its `Operator` PDA is [`OPERATOR_SEED`, authority]).
    pub authority: Pubkey,
    /// Latest values (mirror `Operator.stake`, `.served_models`, `.unbonding > 0`), in force from `effective_slot`.
    pub stake: u64,
    pub served_models: u64,
    pub unbonding: bool,
    pub effective_slot: u64,
    /// The two sets of values in force before the latest ones (history the draw may need).
    pub current: DrawValues,
    pub previous: DrawValues,
    /// Committees the operator sits on whose request is not finalized yet.
    pub open_assignments: u32,
    /// The operator must stay slashable until this slot (a first-round majority until its dispute window is
    /// over): no withdraw, no removal from the registry before it.
    pub locked_until: u64,
}

impl RegistryEntry {
    fn latest(&self) -> DrawValues {
        DrawValues {
            stake: self.stake,
            served_models: self.served_models,
            unbonding: self.unbonding,
            effective_slot: self.effective_slot,
        }
    }

    /// The values in force at `slot`: the newest of latest/current/previous whose effective slot is ≤ `slot`.
    /// Exact for any slot ≥ (the slot it is read at) − assign_window, since effective slots are ≥ delay apart.
    pub fn values_at(&self, slot: u64) -> DrawValues {
        if self.effective_slot <= slot {
            self.latest()
        } else if self.current.effective_slot <= slot {
            self.current
        } else {
            self.previous
        }
    }

    /// Records the operator's new draw inputs; they take effect at `now + assign_window + 1`.
    pub fn schedule(&mut self, op: &Operator, clock: &RegistryClock) -> Result<()> {
        let latest = self.latest();
        if self.effective_slot <= clock.now && !latest.same(&self.current) {
            self.previous = self.current;
            self.current = latest;
        }
        let new = DrawValues::of(op);
        if new.same(&self.current) {
            // Back to the values in force: any pending change is cancelled.
            self.set_latest(self.current);
        } else if !new.same(&latest) {
            // A pending change (not in force yet) is replaced but keeps its effective slot, which is still in
            // the future, so no draw whose seed is known can see the difference; otherwise the change takes
            // effect after the delay.
            let effective_slot = if self.effective_slot > clock.now {
                self.effective_slot
            } else {
                let delay = clock.assign_window.checked_add(1).ok_or(VerityError::MathOverflow)?;
                clock.now.checked_add(delay).ok_or(VerityError::MathOverflow)?
            };
            self.set_latest(DrawValues { effective_slot, ..new });
        }
        Ok(())
    }

    /// The largest weight any draw still possible at `clock.now` may give the operator: the value sets in force
    /// at some slot ≥ `now − assign_window` (whatever min stake the draw uses).
    pub fn max_drawable_stake(&self, clock: &RegistryClock) -> u64 {
        let oldest = clock.oldest_readable();
        let mut max = self.values_at(oldest).drawable_stake();
        for v in [self.current, self.latest()] {
            if v.effective_slot > oldest {
                max = max.max(v.drawable_stake());
            }
        }
        max
    }

    /// Whether the operator is held slashable at `now` (open committees or a lock until a later slot).
    pub fn held(&self, now: u64) -> bool {
        self.open_assignments > 0 || now < self.locked_until
    }

    fn set_latest(&mut self, v: DrawValues) {
        self.stake = v.stake;
        self.served_models = v.served_models;
        self.unbonding = v.unbonding;
        self.effective_slot = v.effective_slot;
    }

    /// Whether removing the entry cannot change any draw still possible: no open assignments, and not drawable
    /// under any values that requests submitted in the last `assign_window` slots (or later) may read.
    pub fn removable(&self, clock: &RegistryClock) -> bool {
        let oldest = clock.oldest_readable();
        let later = |v: &DrawValues| v.effective_slot <= oldest || v.idle(clock.min_stake);
        !self.held(clock.now)
            && self.values_at(oldest).idle(clock.min_stake)
            && later(&self.current)
            && later(&self.latest())
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
    /// Index of `authority`'s entry, if present.
    pub fn find(&self, authority: &Pubkey) -> Option<usize> {
        self.entries.iter().position(|e| e.authority == *authority)
    }

    /// Mutable entry of `authority`.
    pub fn entry_mut(&mut self, authority: &Pubkey) -> Result<&mut RegistryEntry> {
        let i = self.find(authority).ok_or(VerityError::OperatorNotInRegistry)?;
        self.entries.get_mut(i).ok_or_else(|| error!(VerityError::OperatorNotInRegistry))
    }

    /// Records `op`'s current books, adding its entry if absent. A full registry makes room by evicting a
    /// `removable` entry (never an operator that is or may still be drawable); none: `RegistryFull`.
    pub fn sync(&mut self, op: &Operator, clock: &RegistryClock) -> Result<()> {
        if self.find(&op.authority).is_none() {
            if self.entries.len() >= MAX_OPERATORS {
                let evict = self.entries.iter().position(|e| e.removable(clock)).ok_or(VerityError::RegistryFull)?;
                self.entries.swap_remove(evict);
            }
            self.entries.push(RegistryEntry { authority: op.authority, ..Default::default() });
        }
        self.entry_mut(&op.authority)?.schedule(op, clock)
    }

    /// Like [`Self::sync`] for a change that can only make the operator less drawable (a withdraw): an absent
    /// (evicted) entry is re-added only if the operator is drawable again and there is room, so the change never
    /// needs a free registry slot.
    pub fn sync_if_room(&mut self, op: &Operator, clock: &RegistryClock) -> Result<()> {
        if self.find(&op.authority).is_some() {
            return self.entry_mut(&op.authority)?.schedule(op, clock);
        }
        if DrawValues::of(op).idle(clock.min_stake) {
            return Ok(());
        }
        let room = self.entries.len() < MAX_OPERATORS || self.entries.iter().any(|e| e.removable(clock));
        if room {
            self.sync(op, clock)?;
        }
        Ok(())
    }

    /// Removes `authority`'s entry (if present) when `removable`; else `OpenAssignments` / `StakeLocked` /
    /// `RegistryChangePending`.
    pub fn remove(&mut self, authority: &Pubkey, clock: &RegistryClock) -> Result<()> {
        let Some(i) = self.find(authority) else { return Ok(()) };
        let e = self.entries.get(i).ok_or(VerityError::OperatorNotInRegistry)?;
        require!(e.open_assignments == 0, VerityError::OpenAssignments);
        require!(clock.now >= e.locked_until, VerityError::StakeLocked);
        require!(e.removable(clock), VerityError::RegistryChangePending);
        self.entries.swap_remove(i);
        Ok(())
    }

    /// Changes `authority`'s open assignment count by +1 or −1.
    pub fn adjust_open(&mut self, authority: &Pubkey, increase: bool) -> Result<()> {
        let e = self.entry_mut(authority)?;
        e.open_assignments =
            if increase { e.open_assignments.checked_add(1) } else { e.open_assignments.checked_sub(1) }
                .ok_or(VerityError::MathOverflow)?;
        Ok(())
    }

    /// Holds `authority`'s entry (which must be present) slashable until at least `until`.
    pub fn lock_until(&mut self, authority: &Pubkey, until: u64) -> Result<()> {
        let e = self.entry_mut(authority)?;
        e.locked_until = e.locked_until.max(until);
        Ok(())
    }

    /// Open assignments of `authority` (0 when it has no entry).
    pub fn open_assignments(&self, authority: &Pubkey) -> u32 {
        self.find(authority).and_then(|i| self.entries.get(i)).map(|e| e.open_assignments).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: u64 = 10; // assign window; delay = 11

    fn clock(now: u64) -> RegistryClock {
        RegistryClock { now, assign_window: W, min_stake: 5 }
    }

    fn op(authority: Pubkey, stake: u64, unbonding: u64) -> Operator {
        Operator { authority, stake, unbonding, served_models: 1, ..Default::default() }
    }

    #[test]
    fn changes_take_effect_after_the_delay() {
        let a = Pubkey::new_unique();
        let mut r = OperatorRegistry::default();
        r.sync(&op(a, 100, 0), &clock(100)).unwrap();
        let e = r.entries[0];
        assert_eq!(e.effective_slot, 111);
        assert!(!e.values_at(110).eligible(1, 5));
        assert!(e.values_at(111).eligible(1, 5));
        // A further top-up only counts for slots ≥ 200 + 11; earlier slots keep 100.
        r.sync(&op(a, 900, 0), &clock(200)).unwrap();
        let e = r.entries[0];
        assert_eq!((e.values_at(205).stake, e.values_at(211).stake), (100, 900));
        // Undoing a pending change restores the values in force.
        r.sync(&op(a, 100, 0), &clock(201)).unwrap();
        assert_eq!((r.entries[0].stake, r.entries[0].effective_slot), (100, 111));
        // Re-syncing unchanged books does not postpone a pending change.
        r.sync(&op(a, 300, 0), &clock(300)).unwrap();
        r.sync(&op(a, 300, 0), &clock(305)).unwrap();
        assert_eq!(r.entries[0].effective_slot, 311);
    }

    /// Against a full history: for any change pattern, the values read at `now` for every slot in
    /// [now − W, now] are the values in force at that slot.
    #[test]
    fn history_is_exact_within_the_assign_window() {
        let a = Pubkey::new_unique();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..200 {
            let mut r = OperatorRegistry::default();
            // (effective slot, (stake, served models)), all values ever in force; the entry starts all zero and
            // every sync serves model bit 1.
            let mut truth: Vec<(u64, (u64, u64))> = vec![(0, (0, 0))];
            let mut now = 1;
            for _ in 0..40 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                now += x % 9; // several changes per window, sometimes in the same slot
                let stake = x % 4;
                r.sync(&op(a, stake, 0), &clock(now)).unwrap();
                // Truth: a change made at `now` is in force from now + W + 1; a change replacing a pending one
                // keeps the pending one's slot (never postponed); going back to the values in force cancels it.
                let v = (stake, 1);
                let pending = truth.last().copied().filter(|t| t.0 > now);
                if pending.map(|t| t.1) != Some(v) {
                    truth.retain(|(eff, _)| *eff <= now);
                    if truth.last().map(|t| t.1) != Some(v) {
                        truth.push((pending.map_or(now + W + 1, |t| t.0), v));
                    }
                }
                let e = r.entries[0];
                for s in now.saturating_sub(W)..=now + 2 * W {
                    let want = truth.iter().rev().find(|(eff, _)| *eff <= s).map(|t| t.1).unwrap();
                    let got = e.values_at(s);
                    assert_eq!((got.stake, got.served_models), want, "slot {s} read at {now}");
                }
            }
        }
    }

    /// tests/BUGS.md #8: alternating replacements of a pending change never keep the old values in force.
    #[test]
    fn replacing_a_pending_change_never_postpones_it() {
        let a = Pubkey::new_unique();
        let mut r = OperatorRegistry::default();
        r.sync(&op(a, 100, 0), &clock(0)).unwrap();
        r.sync(&op(a, 0, 100), &clock(20)).unwrap(); // unstake everything: idle from 31
        for now in (21..200).step_by(3) {
            let mut o = op(a, 0, 100);
            o.served_models = now % 2;
            r.sync(&o, &clock(now)).unwrap();
            let e = r.entries[0];
            if now >= 31 {
                assert!(e.values_at(now).unbonding, "old values still in force at {now}");
            }
            // Drawable at weight 100 only while a draw may read a slot before 31 (oldest readable = now − 10).
            let want = if now < 41 { 100 } else { 0 };
            assert_eq!(e.max_drawable_stake(&clock(now)), want, "at {now}");
        }
    }

    #[test]
    fn full_registry_evicts_only_idle_entries() {
        let mut r = OperatorRegistry::default();
        let staked: Vec<Pubkey> = (0..3).map(|_| Pubkey::new_unique()).collect();
        for k in &staked {
            r.sync(&op(*k, 100, 0), &clock(0)).unwrap();
        }
        for _ in 3..MAX_OPERATORS {
            r.sync(&op(Pubkey::new_unique(), 0, 0), &clock(1)).unwrap();
        }
        let newcomer = Pubkey::new_unique();
        r.sync(&op(newcomer, 100, 0), &clock(2)).unwrap();
        assert_eq!(r.entries.len(), MAX_OPERATORS);
        assert!(staked.iter().chain([&newcomer]).all(|k| r.find(k).is_some()));
        // Only staked entries left: nothing to evict.
        let mut full = OperatorRegistry::default();
        for _ in 0..MAX_OPERATORS {
            full.sync(&op(Pubkey::new_unique(), 100, 0), &clock(0)).unwrap();
        }
        let err = full.sync(&op(Pubkey::new_unique(), 100, 0), &clock(50)).unwrap_err();
        assert_eq!(err, VerityError::RegistryFull.into());
    }

    #[test]
    fn removal_waits_until_no_draw_can_see_the_operator() {
        let a = Pubkey::new_unique();
        let mut r = OperatorRegistry::default();
        r.sync(&op(a, 100, 0), &clock(0)).unwrap();
        r.sync(&op(a, 0, 100), &clock(100)).unwrap(); // request_unstake: unbonding from 111
        r.adjust_open(&a, true).unwrap();
        assert_eq!(r.remove(&a, &clock(200)).unwrap_err(), VerityError::OpenAssignments.into());
        r.adjust_open(&a, false).unwrap();
        assert_eq!(r.adjust_open(&a, false).unwrap_err(), VerityError::MathOverflow.into());
        // Slots 110..=120 may still draw it (values at 110 are eligible).
        assert_eq!(r.remove(&a, &clock(120)).unwrap_err(), VerityError::RegistryChangePending.into());
        r.remove(&a, &clock(121)).unwrap();
        assert!(r.find(&a).is_none());
        assert_eq!(r.open_assignments(&a), 0);
        r.remove(&a, &clock(122)).unwrap();
    }
}
