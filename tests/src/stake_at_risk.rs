//! The stake-at-risk invariant of the property test, checked on one bank snapshot after every step:
//! - the registry's draw inputs equal the reference model's (tests/src/registry_model.rs, fed only with the
//!   operators' books) at every slot a still-assignable draw may read, and an operator missing from the registry
//!   is undrawable there;
//! - every member of every open committee (first or second round) holds vault stake ≥ min stake;
//! - every majority member of a result still inside its dispute window is held (locked or in an open committee),
//!   so no withdraw can take its stake below what a slash would take.
use {
    crate::{model_check::values_at, pda, registry_model::RegistryModel},
    anchor_lang::{prelude::Pubkey, AccountDeserialize},
    solana_account::Account,
    std::collections::{BTreeSet, HashMap},
    verity::state::{ConfigParams, Dispute, DisputePhase, Operator, OperatorRegistry, Outcome, Request, RequestStatus},
};

fn decode<T: AccountDeserialize>(a: &Account) -> Option<T> {
    T::try_deserialize(&mut a.data.as_slice()).ok()
}

/// Checks the invariant; returns the first violation.
pub fn check(
    snap: &HashMap<Pubkey, Account>,
    requests: &BTreeSet<Pubkey>,
    model: &RegistryModel,
    params: &ConfigParams,
    now: u64,
) -> Result<(), String> {
    let registry: OperatorRegistry = snap.get(&pda::registry()).and_then(decode).ok_or("registry unreadable")?;
    let oldest = now.saturating_sub(params.assign_window);
    let horizon = now + params.assign_window + 1;
    for e in &registry.entries {
        for s in oldest..=horizon {
            let want = model.at(&e.authority, s);
            let got = values_at(e, s);
            if got != (want.stake, want.served_models, want.unbonding) {
                return Err(format!(
                    "{}: registry values at slot {s} (read at {now}) are {got:?}, reference {want:?}",
                    e.authority
                ));
            }
        }
    }
    for auth in model.operators() {
        if registry.find(auth).is_some() {
            continue;
        }
        for s in oldest..=now {
            let b = model.at(auth, s);
            if !b.unbonding && b.stake > 0 && b.served_models != 0 {
                return Err(format!(
                    "{auth} is drawable at slot {s} (weight {}) but missing from the registry",
                    b.stake
                ));
            }
        }
    }
    let holding = |auth: &Pubkey| -> u64 {
        snap.get(&pda::operator(auth)).and_then(decode::<Operator>).map_or(0, |o| o.stake + o.unbonding)
    };
    for key in requests {
        let Some(r) = snap.get(key).filter(|a| a.owner == verity::ID).and_then(decode::<Request>) else { continue };
        let d = snap
            .get(&pda::dispute(key))
            .filter(|a| a.owner == verity::ID && a.lamports > 0)
            .and_then(decode::<Dispute>);
        let mut open: Vec<Pubkey> = Vec::new();
        if matches!(r.status, RequestStatus::Committing | RequestStatus::Revealing) {
            open.extend(r.committee.members.iter().map(|m| m.operator));
        }
        if let Some(d) = d.as_ref().filter(|d| matches!(d.phase, DisputePhase::Committing | DisputePhase::Revealing)) {
            open.extend(d.committee.members.iter().map(|m| m.operator));
        }
        for m in &open {
            let held = holding(m);
            if held < r.terms.min_stake {
                return Err(format!(
                    "{m} sits on an open committee of {key} holding {held} < min stake {}",
                    r.terms.min_stake
                ));
            }
        }
        let in_window = r.round == 0
            && matches!(r.status, RequestStatus::Finalized | RequestStatus::Disputed)
            && now < r.finalized_slot + r.terms.dispute_window;
        if in_window {
            for m in r.committee.members.iter().filter(|m| matches!(m.outcome, Outcome::Agreed)) {
                let e = registry.entries.iter().find(|e| e.authority == m.operator);
                let held = e.is_some_and(|e| {
                    e.open_assignments > 0 || e.locked_until >= r.finalized_slot + r.terms.dispute_window
                });
                if !held {
                    return Err(format!("{} (majority of {key}) could withdraw inside its dispute window", m.operator));
                }
            }
        }
    }
    Ok(())
}
