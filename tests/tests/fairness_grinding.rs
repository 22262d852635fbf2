//! Draw fairness against operators (not requesters). The seed is public one slot after submit; before the
//! fix of tests/BUGS.md #2 the draw read the registry at `assign_committee` time, so an operator could change
//! its stake by a ground amount and crank `assign` in the same transaction (20/20 committees captured). Now the
//! draw uses the values in force at submit_slot: (1) the same grinding does no better than chance; (2) whatever
//! operators change between submit and assign (stake, unbonding, served models, leaving), the committee equals
//! the spec draw over the registry as it stood when the request was submitted.
use {
    verity::state::RegistryEntry,
    verity_tests::{
        default_model_params, default_params,
        model_check::{self as mc, Rng},
        submit_args, Keypair, Protocol, Pubkey, Signer, SOL,
    },
};

/// The top-up `δ ∈ 1..=max` of `entries[who]` after which the spec draw holds both `colluders`, if any.
fn grind(
    entries: &[RegistryEntry],
    who: usize,
    colluders: &[Pubkey; 2],
    seed: &[u8; 32],
    min_stake: u64,
    max: u64,
) -> Option<u64> {
    (1..=max).find(|&delta| {
        let mut e = entries.to_vec();
        e[who].stake += delta;
        let c = mc::spec_draw(&mc::eligible(&e, 0, min_stake), 3, seed).unwrap();
        colluders.iter().all(|x| c.contains(x))
    })
}

#[tokio::test]
async fn an_operator_topping_up_stake_after_the_seed_is_public_cannot_pick_the_committee() {
    let mut p = Protocol::new(default_params()).await;
    p.add_model(default_model_params()).await;
    for _ in 0..6 {
        p.add_operator(100_000).await;
    }
    p.activate_registry().await;
    let (a, b) = (4usize, 5usize);
    let attacker: Keypair = p.operators[a].authority.insecure_clone();
    let colluders = [attacker.pubkey(), p.operators[b].authority.pubkey()];
    let requester = p.requester(100 * SOL).await;
    let weights = [100_000u64; 6];
    let base: f64 = mc::ordered_committee_probabilities(&weights, 3)
        .iter()
        .filter(|(o, _)| o.contains(&a) && o.contains(&b))
        .map(|(_, p)| p)
        .sum();
    let trials = 20u64;
    let mut hits = 0;
    for nonce in 1..=trials {
        let request = p.submit(&requester, 0, submit_args(nonce, "hi", 1, 1_000)).await;
        p.make_seed_available().await;
        // Everything the attacker uses is public: the request, SlotHashes and the registry.
        let r = p.request(&request).await;
        let (_, hash) = mc::seed_entry(&p.env.slot_hashes().await, r.submit_slot).unwrap();
        let seed = mc::spec_seed(&hash, &request, 0);
        let reg = p.registry().await;
        let who = reg.entries.iter().position(|e| e.authority == attacker.pubkey()).unwrap();
        let tokens = p.operators[a].tokens;
        let mut ixs = Vec::new();
        if let Some(delta) = grind(&reg.entries, who, &colluders, &seed, p.params.min_stake, 5_000) {
            ixs.push(p.ix_stake(&attacker.pubkey(), &tokens, delta));
        }
        ixs.push(p.ix_assign(&request));
        p.env.ok(&ixs, &[&attacker]).await;
        let members: Vec<Pubkey> = p.request(&request).await.committee.members.iter().map(|m| m.operator).collect();
        hits += u64::from(colluders.iter().all(|x| members.contains(x)));
    }
    let mut limit = 0;
    while mc::binomial_upper_tail(trials, base, limit) > 1e-6 {
        limit += 1;
    }
    println!("stake grinding: colluders hold a majority in {hits}/{trials} committees (chance {base:.2}; ≥ {limit}: p < 1e-6)");
    assert!(hits < limit, "an operator chose its committee by grinding its stake: {hits}/{trials}");
}

#[tokio::test]
async fn registry_changes_after_submit_never_change_the_committee() {
    let mut p = Protocol::new(default_params()).await; // assign window 20
    p.add_model(default_model_params()).await;
    p.add_model(default_model_params()).await;
    for i in 0..7u64 {
        p.add_operator_serving(40_000 + 10_000 * i, 0b11).await;
    }
    p.activate_registry().await;
    let requester = p.requester(100 * SOL).await;
    let mut rng = Rng(2026);
    let mut churned = 0;
    for nonce in 1..=16u64 {
        // Some changes are made before the submit and are still pending at it (exercising the entry history).
        churn(&mut p, &mut rng, 2).await;
        let request = p.submit(&requester, (nonce % 2) as usize, submit_args(nonce, "hi", 1, 1_000)).await;
        let r = p.request(&request).await;
        let at_submit = p.registry().await.entries;
        // Between submit and assign (within the assign window) operators change whatever they like.
        for _ in 0..3 {
            churned += churn(&mut p, &mut rng, 3).await;
            p.env.warp_by(1 + rng.below(4)).await;
        }
        let (_, hash) = mc::seed_entry(&p.env.slot_hashes().await, r.submit_slot).expect("seed slot");
        let pool = mc::eligible_at(&at_submit, r.model_index, p.params.min_stake, r.submit_slot);
        let expected = mc::spec_draw(&pool, 3, &mc::spec_seed(&hash, &request, 0));
        let res = p.env.send(&[p.ix_assign(&request)], &[]).await;
        match expected {
            Some(c) => {
                assert!(res.is_ok(), "request {nonce}: assign failed: {:?}", res.err().map(|e| e.err));
                let got: Vec<Pubkey> = p.request(&request).await.committee.members.iter().map(|m| m.operator).collect();
                assert_eq!(got, c, "request {nonce}: committee differs from the draw over the registry at submit");
            }
            None => assert_eq!(
                res.err().and_then(|e| e.custom_code()),
                Some(verity::VerityError::NotEnoughOperators.into())
            ),
        }
    }
    println!("16 committees unaffected by {churned} registry changes made after their submit");
}

/// `n` random operator changes (stake top-up, unbond, withdraw, served models); returns how many succeeded.
async fn churn(p: &mut Protocol, rng: &mut Rng, n: usize) -> usize {
    let mut done = 0;
    for _ in 0..n {
        let o = rng.below(p.operators.len() as u64) as usize;
        let a = p.operators[o].authority.insecure_clone();
        let tokens = p.operators[o].tokens;
        let ix = match rng.below(4) {
            0 => p.ix_stake(&a.pubkey(), &tokens, 1 + rng.below(50_000)),
            1 => p.ix_request_unstake(&a.pubkey(), 1 + rng.below(20_000)),
            2 => p.ix_withdraw_stake(&a.pubkey(), &tokens),
            _ => p.ix_set_served_models(&a.pubkey(), 1 + rng.below(3)),
        };
        done += usize::from(p.env.send(&[ix], &[&a]).await.is_ok());
    }
    done
}
