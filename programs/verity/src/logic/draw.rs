//! Committee draw: the seed slot hash from the SlotHashes sysvar data, and stake-weighted sampling without
//! replacement over the registry.
use {
    crate::{constants::*, errors::VerityError, logic::hashing::draw_seed, state::RegistryEntry},
    anchor_lang::prelude::*,
    solana_sha256_hasher::hashv,
};

/// Size of one SlotHashes entry: slot (u64 LE) + hash (32 bytes).
const ENTRY_LEN: usize = 40;

/// From raw SlotHashes data (u64 LE count, then (slot, hash) entries, newest first), the entry of the
/// smallest slot greater than `after`. Requires an entry at or below `after` too, proving the sysvar still
/// covers the slots right after it (otherwise the draw could be ground by waiting).
pub fn first_slot_hash_after(data: &[u8], after: u64) -> Result<(u64, [u8; 32])> {
    let count_bytes: [u8; 8] = data.get(..8).and_then(|b| b.try_into().ok()).ok_or(VerityError::InvalidSlotHashes)?;
    let count = usize::try_from(u64::from_le_bytes(count_bytes)).map_err(|_| VerityError::InvalidSlotHashes)?;
    require!(count <= MAX_SLOT_HASHES, VerityError::InvalidSlotHashes);
    let mut best: Option<(u64, [u8; 32])> = None;
    let mut covered = false;
    for i in 0..count {
        let start = 8usize
            .checked_add(i.checked_mul(ENTRY_LEN).ok_or(VerityError::MathOverflow)?)
            .ok_or(VerityError::MathOverflow)?;
        let end = start.checked_add(ENTRY_LEN).ok_or(VerityError::MathOverflow)?;
        let entry = data.get(start..end).ok_or(VerityError::InvalidSlotHashes)?;
        let slot =
            u64::from_le_bytes(entry.get(..8).and_then(|b| b.try_into().ok()).ok_or(VerityError::InvalidSlotHashes)?);
        let hash: [u8; 32] = entry.get(8..).and_then(|b| b.try_into().ok()).ok_or(VerityError::InvalidSlotHashes)?;
        if slot > after {
            if best.is_none_or(|(s, _)| slot < s) {
                best = Some((slot, hash));
            }
        } else {
            covered = true;
        }
    }
    let best = best.ok_or(VerityError::SlotHashNotYetAvailable)?;
    require!(covered, VerityError::SlotHashExpired);
    Ok(best)
}

/// Draws `k` distinct operators, stake-weighted, among entries whose values in force at `submit_slot` are
/// eligible for `model_bit`. The pool is sorted by authority key (registry order does not matter); draw `j`
/// picks `u128(first 16 bytes of sha256(seed ‖ j)) mod remaining_weight` walking the pool. Returns the chosen
/// authorities in draw order.
pub fn draw_committee(
    entries: &[RegistryEntry],
    submit_slot: u64,
    model_bit: u64,
    min_stake: u64,
    k: u8,
    seed: &[u8; 32],
) -> Result<Vec<Pubkey>> {
    draw_committee_excluding(entries, submit_slot, model_bit, min_stake, k, seed, &[])
}

/// [`draw_committee`] over the pool without the authorities in `exclude` (the first committee, for the 2k+1
/// escalation/dispute round; `slot` is then the dispute's opening slot).
pub fn draw_committee_excluding(
    entries: &[RegistryEntry],
    submit_slot: u64,
    model_bit: u64,
    min_stake: u64,
    k: u8,
    seed: &[u8; 32],
    exclude: &[Pubkey],
) -> Result<Vec<Pubkey>> {
    let mut pool: Vec<(Pubkey, u128)> = entries
        .iter()
        .take(MAX_OPERATORS)
        .filter(|e| !exclude.iter().take(MAX_MEMBERS).any(|x| *x == e.authority))
        .map(|e| (e.authority, e.values_at(submit_slot)))
        .filter(|(_, v)| v.eligible(model_bit, min_stake))
        .map(|(k, v)| (k, u128::from(v.stake)))
        .collect();
    pool.sort_unstable_by_key(|(k, _)| *k);
    require!(pool.len() >= usize::from(k), VerityError::NotEnoughOperators);
    let mut chosen = Vec::with_capacity(usize::from(k));
    for j in 0..k {
        let total: u128 =
            pool.iter().try_fold(0u128, |acc, (_, w)| acc.checked_add(*w)).ok_or(VerityError::MathOverflow)?;
        require!(total > 0, VerityError::NotEnoughOperators);
        let h = hashv(&[seed, &[j]]).to_bytes();
        let mut r_bytes = [0u8; 16];
        r_bytes.copy_from_slice(h.get(..16).ok_or(VerityError::MathOverflow)?);
        let mut r = u128::from_le_bytes(r_bytes).checked_rem(total).ok_or(VerityError::MathOverflow)?;
        let mut pick = pool.len().saturating_sub(1);
        for (i, (_, w)) in pool.iter().enumerate() {
            if r < *w {
                pick = i;
                break;
            }
            r = r.checked_sub(*w).ok_or(VerityError::MathOverflow)?;
        }
        let (key, _) = pool.remove(pick);
        chosen.push(key);
    }
    Ok(chosen)
}

/// The seed for `request` in `round` from the SlotHashes data: returns (seed slot, seed).
pub fn seed_from_slot_hashes(data: &[u8], submit_slot: u64, request: &Pubkey, round: u8) -> Result<(u64, [u8; 32])> {
    let (slot, hash) = first_slot_hash_after(data, submit_slot)?;
    Ok((slot, draw_seed(&hash, request, round)))
}

#[cfg(test)]
mod tests {
    use {super::*, crate::state::DrawValues};

    fn sysvar(slots: &[u64]) -> Vec<u8> {
        let mut d = (slots.len() as u64).to_le_bytes().to_vec();
        for s in slots {
            d.extend_from_slice(&s.to_le_bytes());
            d.extend_from_slice(&[*s as u8; 32]);
        }
        d
    }

    #[test]
    fn first_slot_after_submit() {
        let d = sysvar(&[12, 11, 9, 7, 5]);
        assert_eq!(first_slot_hash_after(&d, 7).unwrap(), (9, [9; 32]));
        assert_eq!(first_slot_hash_after(&d, 8).unwrap(), (9, [9; 32]));
        assert_eq!(first_slot_hash_after(&d, 12).unwrap_err(), VerityError::SlotHashNotYetAvailable.into());
        assert_eq!(first_slot_hash_after(&d, 4).unwrap_err(), VerityError::SlotHashExpired.into());
        assert_eq!(first_slot_hash_after(&d[..20], 4).unwrap_err(), VerityError::InvalidSlotHashes.into());
        assert_eq!(first_slot_hash_after(&[1, 2], 4).unwrap_err(), VerityError::InvalidSlotHashes.into());
    }

    fn entry(stake: u64, models: u64) -> RegistryEntry {
        RegistryEntry { authority: Pubkey::new_unique(), stake, served_models: models, ..Default::default() }
    }

    #[test]
    fn uses_values_in_force_at_submit_and_ignores_registry_order() {
        let mut entries: Vec<RegistryEntry> = (0..4).map(|_| entry(100, 1)).collect();
        let before = draw_committee(&entries, 50, 1, 1, 2, &[3; 32]).unwrap();
        // A change effective after the submit slot does not count.
        entries[0].stake = 1_000_000;
        entries[0].effective_slot = 51;
        entries[0].current = DrawValues { stake: 100, served_models: 1, unbonding: false, effective_slot: 0 };
        entries.reverse();
        assert_eq!(draw_committee(&entries, 50, 1, 1, 2, &[3; 32]).unwrap(), before);
    }

    #[test]
    fn draws_distinct_eligible_members() {
        let mut entries: Vec<RegistryEntry> = (0..5).map(|_| entry(100, 1)).collect();
        entries.push(entry(100, 2)); // other model
        entries.push(entry(5, 1)); // below min stake
        entries.push(RegistryEntry { unbonding: true, ..entry(100, 1) });
        for s in 0..50u8 {
            let c = draw_committee(&entries, 0, 1, 10, 3, &[s; 32]).unwrap();
            assert_eq!(c.len(), 3);
            let mut d = c.clone();
            d.sort();
            d.dedup();
            assert_eq!(d.len(), 3, "distinct");
            assert!(c.iter().all(|k| entries[..5].iter().any(|e| e.authority == *k)), "only eligible");
        }
        assert_eq!(
            draw_committee(&entries, 0, 1, 10, 6, &[0; 32]).unwrap_err(),
            VerityError::NotEnoughOperators.into()
        );
        // Deterministic for a seed.
        assert_eq!(
            draw_committee(&entries, 0, 1, 10, 3, &[7; 32]).unwrap(),
            draw_committee(&entries, 0, 1, 10, 3, &[7; 32]).unwrap()
        );
    }

    #[test]
    fn stake_weighting() {
        let entries = vec![entry(1, 1), entry(999, 1)];
        let heavy = entries[1].authority;
        let wins = (0..200u8).filter(|s| draw_committee(&entries, 0, 1, 1, 1, &[*s; 32]).unwrap()[0] == heavy).count();
        assert!(wins > 190, "heavy operator drawn {wins}/200");
    }
}
