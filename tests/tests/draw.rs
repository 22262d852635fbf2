//! The committee draw in the runtime: distinct eligible members, model filter, stake weighting, and a larger
//! committee (k = 5) where two minority members share their slash among three honest ones.
use {
    verity::{ConfigParams, Outcome},
    verity_tests::{default_model_params, default_params, submit_args, Protocol, Signer, SOL},
};

#[tokio::test]
async fn committee_is_distinct_and_marks_open_assignments() {
    let mut p = Protocol::with_operators(default_params(), 6, 50_000).await;
    let (_q, _request, c) = p.assigned().await;
    assert_eq!(c.len(), 3);
    let mut d = c.clone();
    d.sort();
    d.dedup();
    assert_eq!(d.len(), 3, "members are distinct");
    let reg = p.registry().await;
    for (i, o) in p.operators.iter().enumerate() {
        let e = reg.entries.iter().find(|e| e.authority == o.authority.pubkey()).unwrap();
        assert_eq!(e.open_assignments, u32::from(c.contains(&i)), "operator {i}");
    }
}

#[tokio::test]
async fn only_operators_serving_the_model_are_drawn() {
    let mut p = Protocol::new(default_params()).await;
    p.add_model(default_model_params()).await; // index 0
    p.add_model(default_model_params()).await; // index 1
    for _ in 0..3 {
        p.add_operator_serving(50_000, 0b01).await; // 0..3 serve model 0
    }
    for _ in 0..3 {
        p.add_operator_serving(50_000, 0b10).await; // 3..6 serve model 1
    }
    p.add_operator_serving(50_000, 0b11).await; // 6 serves both
    p.activate_registry().await; // registry changes become drawable assign_window + 1 slots later
    for nonce in 1..=3u64 {
        let req = p.requester(10 * SOL).await;
        let request = p.submit(&req, 1, submit_args(nonce, "hi", 1, 1_000)).await;
        let c = p.assign(&request).await;
        assert!(c.iter().all(|&i| i >= 3), "drawn for model 1: {c:?}");
    }
}

#[tokio::test]
async fn draw_is_stake_weighted() {
    let params = ConfigParams { committee_size: 1, min_stake: 1, ..default_params() };
    let mut p = Protocol::new(params).await;
    p.add_model(default_model_params()).await;
    p.add_operator(1).await; // 0: weight 1
    p.add_operator(999_999).await; // 1: weight 999_999 (chance of losing a draw: 1e-6)
    p.activate_registry().await; // registry changes become drawable assign_window + 1 slots later
    for nonce in 1..=8u64 {
        let req = p.requester(10 * SOL).await;
        let request = p.submit(&req, 0, submit_args(nonce, "hi", 1, 1_000)).await;
        assert_eq!(p.assign(&request).await, vec![1], "draw {nonce}");
    }
}

#[tokio::test]
async fn k5_two_liars_share_their_slash_with_three_honest_members() {
    let params = ConfigParams { committee_size: 5, ..default_params() };
    let mut p = Protocol::with_operators(params, 5, 100_000).await;
    let (_q, request, c) = p.assigned().await;
    let answer = |n: usize| if n < 3 { "right" } else { "wrong" };
    for (n, &op) in c.iter().enumerate() {
        p.commit(&request, op, 0, answer(n)).await;
    }
    for (n, &op) in c.iter().enumerate() {
        p.reveal(&request, op, 0, answer(n), (1, 1)).await;
    }
    let ts = p.treasury_stake;
    let (vault0, ts0) = (p.vault_balance().await, p.env.token_balance(&ts).await);
    p.finalize(&request).await;
    let r = p.request(&request).await;
    assert_eq!(r.receipt.agreement_count, 3);
    // 2 × 10_000 slashed; 50 % (10_000) to the treasury; 10_000 / 3 = 3_333 each, remainder 1 to the treasury.
    for (n, &op) in c.iter().enumerate() {
        let o = p.operator(op).await;
        if n < 3 {
            assert_eq!((r.committee.members[n].outcome, o.stake), (Outcome::Agreed, 103_333));
        } else {
            assert_eq!((r.committee.members[n].outcome, o.stake), (Outcome::Minority, 90_000));
        }
    }
    assert_eq!(p.env.token_balance(&ts).await, ts0 + 10_001);
    assert_eq!(p.vault_balance().await, vault0 - 10_001);
    let fee = verity_tests::DEFAULT_FEE;
    let rest = fee - fee / 10 - fee / 20;
    assert_eq!((r.committee.members[0].reward, r.protocol_fee_paid), (rest / 3, fee / 20 + rest % 3));
    p.assert_vault_matches_books().await;
}
