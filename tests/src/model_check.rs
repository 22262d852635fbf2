//! An independent model of the committee draw written from docs/PROTOCOL.md (not the program's code): the
//! SlotHashes parse, the seed, stake-weighted sampling without replacement, exact committee probabilities, and
//! the statistics (chi-square / binomial bounds) the fairness tests use. Also a seeded PRNG for property tests.
use {
    crate::{env::Env, fixture::Protocol, pda},
    anchor_lang::prelude::Pubkey,
    solana_keypair::Keypair,
    solana_signer::Signer,
    verity::state::RegistryEntry,
};

/// The SlotHashes sysvar address.
pub const SLOT_HASHES: Pubkey = solana_sdk_ids::sysvar::slot_hashes::ID;

/// Parses SlotHashes data: u64 LE count, then (slot u64 LE, hash [u8; 32]) entries.
pub fn parse_slot_hashes(data: &[u8]) -> Vec<(u64, [u8; 32])> {
    let n = u64::from_le_bytes(data[..8].try_into().unwrap()) as usize;
    (0..n)
        .map(|i| {
            let e = &data[8 + 40 * i..8 + 40 * (i + 1)];
            (u64::from_le_bytes(e[..8].try_into().unwrap()), e[8..].try_into().unwrap())
        })
        .collect()
}

/// The seed entry per the spec: the smallest slot > `submit_slot` (None if there is none yet).
pub fn seed_entry(entries: &[(u64, [u8; 32])], submit_slot: u64) -> Option<(u64, [u8; 32])> {
    entries.iter().filter(|(s, _)| *s > submit_slot).min_by_key(|(s, _)| *s).copied()
}

/// `seed = sha256(slot_hash ‖ request ‖ round)`.
pub fn spec_seed(slot_hash: &[u8; 32], request: &Pubkey, round: u8) -> [u8; 32] {
    pda::sha256(&[slot_hash, request.as_ref(), &[round]])
}

/// An entry's draw inputs in force at `slot` per the spec ("Draw inputs"): the newest of the latest values,
/// `current` and `previous` whose effective slot is ≤ `slot`, as (stake, served_models, unbonding).
pub fn values_at(e: &RegistryEntry, slot: u64) -> (u64, u64, bool) {
    let sets = [
        (e.effective_slot, (e.stake, e.served_models, e.unbonding)),
        (e.current.effective_slot, (e.current.stake, e.current.served_models, e.current.unbonding)),
        (e.previous.effective_slot, (e.previous.stake, e.previous.served_models, e.previous.unbonding)),
    ];
    sets.iter().find(|(from, _)| *from <= slot).map_or(sets[2].1, |(_, v)| *v)
}

/// The draw pool for a request of `model_index` submitted at `submit_slot`: entries whose values in force then
/// are eligible, as (authority, weight), sorted by authority key.
pub fn eligible_at(entries: &[RegistryEntry], model_index: u8, min_stake: u64, submit_slot: u64) -> Vec<(Pubkey, u64)> {
    let mut pool: Vec<(Pubkey, u64)> = entries
        .iter()
        .map(|e| (e.authority, values_at(e, submit_slot)))
        .filter(|(_, (stake, served, unbonding))| {
            !unbonding && *stake >= min_stake && *stake > 0 && (served >> model_index) & 1 == 1
        })
        .map(|(a, (stake, _, _))| (a, stake))
        .collect();
    pool.sort_by_key(|(a, _)| *a);
    pool
}

/// [`eligible_at`] for entries whose latest values are all in force (no pending change).
pub fn eligible(entries: &[RegistryEntry], model_index: u8, min_stake: u64) -> Vec<(Pubkey, u64)> {
    eligible_at(entries, model_index, min_stake, u64::MAX)
}

/// The spec's draw: for j in 0..k, `r = u128_le(sha256(seed ‖ [j])[..16]) mod remaining_total`, walk the pool
/// in order subtracting weights; the picked entry leaves the pool. None if fewer than k are eligible.
pub fn spec_draw(pool: &[(Pubkey, u64)], k: usize, seed: &[u8; 32]) -> Option<Vec<Pubkey>> {
    if pool.len() < k {
        return None;
    }
    let mut pool: Vec<(Pubkey, u128)> = pool.iter().map(|(a, w)| (*a, u128::from(*w))).collect();
    let mut out = Vec::with_capacity(k);
    for j in 0..k {
        let total: u128 = pool.iter().map(|(_, w)| w).sum();
        let h = pda::sha256(&[seed, &[j as u8]]);
        let mut r = u128::from_le_bytes(h[..16].try_into().unwrap()) % total;
        let mut pick = 0;
        while r >= pool[pick].1 {
            r -= pool[pick].1;
            pick += 1;
        }
        out.push(pool.remove(pick).0);
    }
    Some(out)
}

/// Exact probability of every ordered committee (indices into `weights`) under weighted sampling without
/// replacement, for small pools (n!/(n−k)! outcomes).
pub fn ordered_committee_probabilities(weights: &[u64], k: usize) -> Vec<(Vec<usize>, f64)> {
    fn rec(weights: &[u64], k: usize, prefix: &mut Vec<usize>, p: f64, out: &mut Vec<(Vec<usize>, f64)>) {
        if prefix.len() == k {
            out.push((prefix.clone(), p));
            return;
        }
        let left: u64 = (0..weights.len()).filter(|i| !prefix.contains(i)).map(|i| weights[i]).sum();
        for i in 0..weights.len() {
            if !prefix.contains(&i) {
                prefix.push(i);
                rec(weights, k, prefix, p * weights[i] as f64 / left as f64, out);
                prefix.pop();
            }
        }
    }
    let mut out = Vec::new();
    rec(weights, k, &mut Vec::new(), 1.0, &mut out);
    out
}

/// Pearson's chi-square statistic of `observed` counts against `expected` probabilities over `n` trials.
pub fn chi_square(observed: &[u64], expected_p: &[f64], n: u64) -> f64 {
    observed
        .iter()
        .zip(expected_p)
        .map(|(&o, &p)| {
            let e = p * n as f64;
            (o as f64 - e).powi(2) / e
        })
        .sum()
}

/// Upper critical value of the chi-square distribution with `df` degrees of freedom at tail probability
/// 1e-6 (Wilson–Hilferty approximation; z = 4.7534 is the standard normal 1e-6 upper quantile).
pub fn chi_square_critical_1e6(df: usize) -> f64 {
    let d = df as f64;
    let z = 4.753_424_3;
    d * (1.0 - 2.0 / (9.0 * d) + z * (2.0 / (9.0 * d)).sqrt()).powi(3)
}

/// P(X ≥ x) for X ~ Binomial(n, p), computed exactly in f64.
pub fn binomial_upper_tail(n: u64, p: f64, x: u64) -> f64 {
    let mut total = 0.0;
    for i in x..=n {
        let mut c = 1.0f64;
        for j in 0..i {
            c = c * (n - j) as f64 / (j + 1) as f64;
        }
        total += c * p.powi(i as i32) * (1.0 - p).powi((n - i) as i32);
    }
    total
}

/// SplitMix64: a tiny seeded PRNG, so a failing property sequence reproduces from its printed seed.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len() as u64) as usize])
    }
}

impl Env {
    /// The SlotHashes entries as the bank holds them now.
    pub async fn slot_hashes(&mut self) -> Vec<(u64, [u8; 32])> {
        parse_slot_hashes(&self.get_account(&SLOT_HASHES).await.expect("SlotHashes").data)
    }

    /// Overwrites the hash recorded for `slot` in the SlotHashes sysvar (a test-only what-if: "had the chain
    /// produced this hash instead").
    pub async fn set_slot_hash(&mut self, slot: u64, hash: [u8; 32]) {
        let mut acct = self.get_account(&SLOT_HASHES).await.expect("SlotHashes");
        let entries = parse_slot_hashes(&acct.data);
        let i = entries.iter().position(|(s, _)| *s == slot).expect("slot in SlotHashes");
        acct.data[8 + 40 * i + 8..8 + 40 * (i + 1)].copy_from_slice(&hash);
        self.ctx.set_account(&SLOT_HASHES, &solana_account::AccountSharedData::from(acct));
    }
}

impl Protocol {
    /// Waits until every registry change made so far is in force (changes take effect `assign_window + 1`
    /// slots after they are made), so requests submitted next see the current stakes.
    pub async fn activate_registry(&mut self) {
        let delay = self.params.assign_window + 1;
        self.env.warp_by(delay).await;
    }

    /// Registers `authority` as an operator serving `served` and stakes `stake` (deterministic keys make two
    /// banks hold identical registries).
    pub async fn add_operator_keyed(&mut self, authority: Keypair, stake: u64, served: u64) -> usize {
        self.env.fund(&authority.pubkey(), crate::SOL).await;
        let tokens = self.env.create_token_account(&self.stake_mint, &authority.pubkey()).await;
        let mint_authority = self.mint_authority.insecure_clone();
        self.env.mint_to(&self.stake_mint, &mint_authority, &tokens, 1_000_000_000).await;
        let mut ixs = vec![self.ix_register_operator(&authority.pubkey(), served)];
        if stake > 0 {
            ixs.push(self.ix_stake(&authority.pubkey(), &tokens, stake));
        }
        self.env.ok(&ixs, &[&authority]).await;
        self.operators.push(crate::fixture::OperatorFx { pda: pda::operator(&authority.pubkey()), authority, tokens });
        self.operators.len() - 1
    }
}
