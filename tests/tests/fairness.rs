//! Draw fairness. (1) On-chain committees equal the draw computed off-chain exactly as PROTOCOL.md specifies
//! (independent model in `model_check`), seeded by a slot hash that did not exist at submit. (2) That draw's
//! committee frequencies match the exact stake-weighted probabilities (chi-square at p = 1e-6), and so do
//! on-chain selection counts. (3) The slot hash, not the requester's nonce, decides the committee: same request
//! keys under different hashes give different committees, and a requester grinding nonces against every hash it
//! can know at submit does no better than chance.
use {
    verity::{state::RegistryEntry, ConfigParams},
    verity_tests::{
        default_model_params, default_params,
        model_check::{self as mc, Rng},
        pda, submit_args, Keypair, Protocol, Pubkey, Signer, SOL,
    },
};

/// Submits `n` requests (nonces `first..first+n`) in the current slot; returns their keys.
async fn submit_batch(p: &mut Protocol, requester: &Keypair, model: usize, first: u64, n: u64) -> Vec<Pubkey> {
    let mut keys = Vec::new();
    for nonce in first..first + n {
        keys.push(p.submit(requester, model, submit_args(nonce, "hi", 1, 1_000)).await);
    }
    keys
}

/// Assigns `request` after checking the spec's seed and committee against what the program will compute;
/// returns the on-chain committee (authorities, draw order).
async fn assign_checked(p: &mut Protocol, request: &Pubkey) -> Vec<Pubkey> {
    let r = p.request(request).await;
    let (seed_slot, hash) = mc::seed_entry(&p.env.slot_hashes().await, r.submit_slot).expect("seed slot present");
    let reg = p.registry().await;
    let pool = mc::eligible_at(&reg.entries, r.model_index, p.params.min_stake, r.submit_slot);
    let expected = mc::spec_draw(&pool, usize::from(r.committee_size), &mc::spec_seed(&hash, request, 0)).unwrap();
    p.env.ok(&[p.ix_assign(request)], &[]).await;
    let r = p.request(request).await;
    assert_eq!(
        (r.committee.seed_slot, r.committee.seed),
        (seed_slot, mc::spec_seed(&hash, request, 0)),
        "seed per spec"
    );
    let got: Vec<Pubkey> = r.committee.members.iter().map(|m| m.operator).collect();
    assert_eq!(got, expected, "on-chain committee == spec draw for {request}");
    got
}

#[tokio::test]
async fn onchain_committees_equal_the_spec_draw() {
    let mut p = Protocol::new(default_params()).await; // k = 3, min stake 1_000
    p.add_model(default_model_params()).await;
    p.add_model(default_model_params()).await;
    for stake in [5_000, 10_000, 20_000, 40_000, 80_000, 160_000] {
        p.add_operator(stake).await;
    }
    p.add_operator(500).await; // below min stake
    p.add_operator_serving(90_000, 0b10).await; // serves only model 1
    let u = p.add_operator(70_000).await; // unbonding
    let ua = p.operators[u].authority.insecure_clone();
    p.env.ok(&[p.ix_request_unstake(&ua.pubkey(), 1)], &[&ua]).await;
    p.activate_registry().await;
    let requester = p.requester(100 * SOL).await;
    let mut checked = 0;
    for batch in 0..3u64 {
        let submit_slot = p.env.slot().await;
        let known = p.env.slot_hashes().await;
        let keys = submit_batch(&mut p, &requester, 0, 1 + batch * 20, 20).await;
        p.make_seed_available().await;
        for k in &keys {
            let c = assign_checked(&mut p, k).await;
            let seed_slot = p.request(k).await.committee.seed_slot;
            assert!(seed_slot > submit_slot, "seed slot after submit");
            assert!(known.iter().all(|(s, _)| *s != seed_slot), "seed hash unknown when the request was signed");
            let forbidden = [p.operators[6].authority.pubkey(), p.operators[7].authority.pubkey(), ua.pubkey()];
            assert!(c.iter().all(|m| !forbidden.contains(m)), "ineligible operator drawn");
            checked += 1;
        }
    }
    println!("{checked} on-chain committees equal the spec draw");
}

#[test]
fn spec_draw_frequencies_match_stake_weights_and_the_program_agrees() {
    let stakes = [1_000u64, 2_000, 3_000, 4_000, 5_000, 15_000];
    let entries: Vec<RegistryEntry> = stakes
        .iter()
        .map(|&stake| RegistryEntry { authority: Pubkey::new_unique(), stake, served_models: 1, ..Default::default() })
        .collect();
    let pool = mc::eligible(&entries, 0, 1);
    // Outcomes are indexed by the operator's position in `stakes` (whatever order the pool is walked in).
    let index = |k: &Pubkey| entries.iter().position(|e| e.authority == *k).unwrap();
    let table = mc::ordered_committee_probabilities(&stakes, 3);
    let mut ordered = vec![0u64; table.len()];
    let mut first = [0u64; 6];
    let mut included = [0u64; 6];
    let n = 60_000u64;
    for s in 0..n {
        let seed = pda::sha256(&[b"fairness", &s.to_le_bytes()]);
        let c = mc::spec_draw(&pool, 3, &seed).unwrap();
        // The program's own draw function gives the same committee for every seed.
        assert_eq!(verity::logic::draw_committee(&entries, 0, 1, 1, 3, &seed).unwrap(), c, "seed {s}");
        let idx: Vec<usize> = c.iter().map(index).collect();
        ordered[table.iter().position(|(o, _)| *o == idx).unwrap()] += 1;
        first[idx[0]] += 1;
        for i in idx {
            included[i] += 1;
        }
    }
    let probs: Vec<f64> = table.iter().map(|(_, p)| *p).collect();
    let chi = mc::chi_square(&ordered, &probs, n);
    let crit = mc::chi_square_critical_1e6(probs.len() - 1);
    println!("ordered committees: chi2 = {chi:.1}, df = {}, critical(1e-6) = {crit:.1}", probs.len() - 1);
    assert!(chi < crit, "ordered-committee frequencies deviate from stake weighting");
    let total: u64 = stakes.iter().sum();
    let shares: Vec<f64> = stakes.iter().map(|s| *s as f64 / total as f64).collect();
    let chi1 = mc::chi_square(&first, &shares, n);
    let crit1 = mc::chi_square_critical_1e6(5);
    println!("first pick vs stake share: chi2 = {chi1:.1}, critical(1e-6) = {crit1:.1}");
    assert!(chi1 < crit1, "first pick deviates from stake share");
    for i in 0..6 {
        let p_incl: f64 = table.iter().filter(|(o, _)| o.contains(&i)).map(|(_, p)| p).sum();
        let sd = (n as f64 * p_incl * (1.0 - p_incl)).sqrt();
        let z = (included[i] as f64 - n as f64 * p_incl) / sd;
        println!(
            "operator {i}: stake share {:.3}, inclusion {:.4} (exact {:.4}, z = {z:+.2})",
            shares[i],
            included[i] as f64 / n as f64,
            p_incl
        );
        assert!(z.abs() < 5.0, "operator {i} inclusion off by {z:.1} sd");
    }
}

#[tokio::test]
async fn onchain_selection_frequency_tracks_stake_share() {
    let params = ConfigParams { committee_size: 1, ..default_params() };
    let mut p = Protocol::new(params).await;
    p.add_model(default_model_params()).await;
    let stakes = [10_000u64, 20_000, 30_000, 40_000];
    for s in stakes {
        p.add_operator(s).await;
    }
    p.activate_registry().await;
    let requester = p.requester(100 * SOL).await;
    let mut counts = [0u64; 4];
    let (batches, per) = (8u64, 50u64);
    for b in 0..batches {
        let keys = submit_batch(&mut p, &requester, 0, 1 + b * per, per).await;
        p.make_seed_available().await;
        for k in &keys {
            let c = assign_checked(&mut p, k).await;
            counts[p.operators.iter().position(|o| o.authority.pubkey() == c[0]).unwrap()] += 1;
        }
    }
    let n = batches * per;
    let shares: Vec<f64> = stakes.iter().map(|s| *s as f64 / 100_000.0).collect();
    let chi = mc::chi_square(&counts, &shares, n);
    println!(
        "on-chain k=1 selections {counts:?} of {n}: chi2 = {chi:.2}, critical(1e-6) = {:.1}",
        mc::chi_square_critical_1e6(3)
    );
    assert!(chi < mc::chi_square_critical_1e6(3), "on-chain selection deviates from stake share");
}

/// A bank with six operators and a requester, all from fixed keys: two such banks hold identical registries
/// and produce identical request addresses.
async fn world() -> (Protocol, Keypair) {
    let mut p = Protocol::new(default_params()).await;
    p.add_model(default_model_params()).await;
    for (i, stake) in [30_000u64, 50_000, 70_000, 90_000, 110_000, 130_000].into_iter().enumerate() {
        p.add_operator_keyed(Keypair::new_from_array([10 + i as u8; 32]), stake, 1).await;
    }
    p.activate_registry().await;
    let requester = Keypair::new_from_array([99; 32]);
    p.env.fund(&requester.pubkey(), 100 * SOL).await;
    (p, requester)
}

/// In a fresh `world`, submits nonces 1..=n, makes the seed slot's hash `hash`, assigns; returns committees.
async fn committees_under(hash: [u8; 32], n: u64) -> Vec<Vec<Pubkey>> {
    let (mut p, requester) = world().await;
    let keys = submit_batch(&mut p, &requester, 0, 1, n).await;
    let submit_slot = p.request(&keys[0]).await.submit_slot;
    p.make_seed_available().await;
    let (seed_slot, _) = mc::seed_entry(&p.env.slot_hashes().await, submit_slot).unwrap();
    p.env.set_slot_hash(seed_slot, hash).await;
    let mut out = Vec::new();
    for k in &keys {
        out.push(assign_checked(&mut p, k).await);
    }
    out
}

#[tokio::test]
async fn the_slot_hash_not_the_nonce_decides_the_committee() {
    let n = 24;
    let (h1, h2) = ([0x11; 32], [0x22; 32]);
    let a = committees_under(h1, n).await;
    let b = committees_under(h2, n).await;
    let again = committees_under(h1, n).await;
    assert_eq!(a, again, "same request keys and same slot hash: same committees");
    let differ = a.iter().zip(&b).filter(|(x, y)| x != y).count();
    println!("{differ}/{n} committees changed when only the seed slot hash changed");
    // Six operators, k = 3: an ordered committee repeats under an independent seed with p < 0.05 each.
    assert!(differ >= 16, "committees barely depend on the slot hash: {differ}/{n}");
}

#[tokio::test]
async fn grinding_nonces_at_submit_time_does_not_pick_the_committee() {
    let (mut p, requester) = world().await;
    let colluders = [p.operators[0].authority.pubkey(), p.operators[1].authority.pubkey()];
    let min_stake = p.params.min_stake;
    let reg = p.registry().await;
    let pool = mc::eligible_at(&reg.entries, 0, min_stake, p.env.slot().await);
    let both = |c: &[Pubkey]| colluders.iter().all(|x| c.contains(x));
    // Exact chance that a committee holds both colluders.
    let weights: Vec<u64> = pool.iter().map(|(_, w)| *w).collect();
    let at = |k: &Pubkey| pool.iter().position(|(a, _)| a == k).unwrap();
    let (c0, c1) = (at(&colluders[0]), at(&colluders[1]));
    let base: f64 = mc::ordered_committee_probabilities(&weights, 3)
        .iter()
        .filter(|(o, _)| o.contains(&c0) && o.contains(&c1))
        .map(|(_, p)| p)
        .sum();
    // At submit the requester knows the hashes in SlotHashes; it grinds nonces until the committee predicted
    // from the newest one (what a program seeding from "the latest slot hash at submit" would use) holds both
    // colluders. Were the seed known at submit, every committee would hold them.
    let known = p.env.slot_hashes().await;
    let (_, latest) = *known.iter().max_by_key(|(s, _)| *s).expect("SlotHashes not empty");
    let submit_slot = p.env.slot().await;
    let trials = 60u64;
    let mut rng = Rng(7);
    let mut chosen = Vec::new();
    for _ in 0..trials {
        let nonce = loop {
            let nonce = rng.next_u64();
            let key = pda::request(&requester.pubkey(), nonce);
            if both(&mc::spec_draw(&pool, 3, &mc::spec_seed(&latest, &key, 0)).unwrap()) {
                break nonce;
            }
        };
        chosen.push(p.submit(&requester, 0, submit_args(nonce, "hi", 1, 1_000)).await);
    }
    p.make_seed_available().await;
    let mut hits = 0;
    for k in &chosen {
        let c = assign_checked(&mut p, k).await;
        let seed_slot = p.request(k).await.committee.seed_slot;
        assert!(seed_slot > submit_slot && known.iter().all(|(s, _)| *s != seed_slot), "seed unknown at submit");
        hits += u64::from(both(&c));
    }
    let mut limit = 0;
    while mc::binomial_upper_tail(trials, base, limit) > 1e-6 {
        limit += 1;
    }
    println!(
        "grinding: {hits}/{trials} committees hold both colluders (chance {base:.3}; ≥ {limit} would be p < 1e-6)"
    );
    assert!(hits < limit, "a requester grinding nonces picked its committee: {hits}/{trials}");
}
