//! A reference model of the registry's draw inputs, written from docs/PROTOCOL.md ("Draw inputs"), not from the
//! program: it sees only the operators' books (stake, unbonding, served models) after each transaction and the
//! slot it landed in, and derives which values are in force at any slot. A change made at slot `t` takes effect
//! at `t + assign_window + 1`; a change made while another is pending replaces it and keeps its effective slot;
//! books equal to the values in force cancel a pending change. Used by the property test's stake-at-risk
//! invariant and the randomized registry test.
use {anchor_lang::prelude::Pubkey, std::collections::BTreeMap, verity::state::Operator};

/// The draw inputs of an operator's books.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Books {
    pub stake: u64,
    pub served_models: u64,
    pub unbonding: bool,
}

impl Books {
    pub fn of(op: &Operator) -> Books {
        Books { stake: op.stake, served_models: op.served_models, unbonding: op.unbonding > 0 }
    }

    /// Drawable for model index `model` at min stake `min_stake`.
    pub fn eligible(&self, model: u8, min_stake: u64) -> bool {
        !self.unbonding && self.stake > 0 && self.stake >= min_stake && (self.served_models >> model) & 1 == 1
    }
}

/// One operator's timeline: (effective slot, values) transitions, and the pending change.
#[derive(Clone, Debug, Default)]
struct Timeline {
    in_force: Vec<(u64, Books)>,
    pending: Option<(u64, Books)>,
    last: Books,
}

impl Timeline {
    fn settle(&mut self, now: u64) {
        if let Some((eff, v)) = self.pending.filter(|(eff, _)| *eff <= now) {
            self.in_force.push((eff, v));
            self.pending = None;
        }
    }

    fn current(&self) -> Books {
        self.in_force.last().map(|(_, v)| *v).unwrap_or_default()
    }

    fn change(&mut self, books: Books, now: u64, delay: u64) {
        self.settle(now);
        self.last = books;
        if books == self.current() {
            self.pending = None;
        } else if let Some((eff, _)) = self.pending {
            self.pending = Some((eff, books));
        } else {
            self.pending = Some((now + delay, books));
        }
    }

    fn at(&self, slot: u64) -> Books {
        let mut v = Books::default();
        for (eff, b) in self.in_force.iter().chain(self.pending.iter()) {
            if *eff <= slot {
                v = *b;
            }
        }
        v
    }
}

/// Every operator's timeline, fed with the books after each transaction.
#[derive(Clone, Debug, Default)]
pub struct RegistryModel {
    pub delay: u64,
    ops: BTreeMap<Pubkey, Timeline>,
}

impl RegistryModel {
    /// A model for `assign_window` (changes take effect `assign_window + 1` slots after they are made).
    pub fn new(assign_window: u64) -> RegistryModel {
        RegistryModel { delay: assign_window + 1, ops: BTreeMap::new() }
    }

    /// Starts `authority`'s timeline from values in force since `effective_slot` (the state at the baseline).
    pub fn seed(
        &mut self,
        authority: Pubkey,
        effective_slot: u64,
        (stake, served_models, unbonding): (u64, u64, bool),
    ) {
        let b = Books { stake, served_models, unbonding };
        self.ops.insert(authority, Timeline { in_force: vec![(effective_slot, b)], pending: None, last: b });
    }

    /// Records operator `authority`'s books as of slot `now` (`None`: the Operator account is closed).
    pub fn observe(&mut self, authority: Pubkey, books: Option<Books>, now: u64) {
        let delay = self.delay;
        match books {
            None => {
                self.ops.remove(&authority);
            }
            Some(b) => {
                let t = self.ops.entry(authority).or_default();
                if t.last != b {
                    t.change(b, now, delay);
                }
            }
        }
    }

    /// The values in force at `slot` for `authority` (zero values when unknown).
    pub fn at(&self, authority: &Pubkey, slot: u64) -> Books {
        self.ops.get(authority).map(|t| t.at(slot)).unwrap_or_default()
    }

    /// Operators the model knows.
    pub fn operators(&self) -> impl Iterator<Item = &Pubkey> {
        self.ops.keys()
    }

    /// The spec's draw pool at `slot`: eligible operators and their weights, sorted by key.
    pub fn pool(&self, model: u8, min_stake: u64, slot: u64) -> Vec<(Pubkey, u64)> {
        self.ops
            .iter()
            .map(|(k, t)| (*k, t.at(slot)))
            .filter(|(_, b)| b.eligible(model, min_stake))
            .map(|(k, b)| (k, b.stake))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_take_effect_after_the_delay_and_are_never_postponed() {
        let a = Pubkey::new_unique();
        let mut m = RegistryModel::new(10);
        let staked = Books { stake: 100, served_models: 1, unbonding: false };
        m.observe(a, Some(staked), 5);
        assert_eq!((m.at(&a, 15), m.at(&a, 16)), (Books::default(), staked));
        let leaving = Books { stake: 0, served_models: 1, unbonding: true };
        m.observe(a, Some(leaving), 30);
        m.observe(a, Some(Books { served_models: 0, ..leaving }), 35);
        m.observe(a, Some(leaving), 40);
        assert_eq!((m.at(&a, 40), m.at(&a, 41)), (staked, leaving), "replacements kept slot 41");
        m.observe(a, Some(staked), 50);
        m.observe(a, Some(leaving), 52);
        assert_eq!(m.at(&a, 70), leaving, "back to the values in force: the pending change is cancelled");
    }
}
