//! Events reach the transaction logs natively (through the bridge's `sol_log_data`) and carry the post-state.
use {
    verity::{CommitteeAssigned, OperatorSlashed, OperatorStaked, Outcome, RequestFinalized, RequestStatus},
    verity_tests::{events, Protocol, Signer},
};

#[tokio::test]
async fn stake_emits_operator_staked() {
    let mut p = Protocol::standard().await;
    let a = p.operators[0].authority.insecure_clone();
    let stake = p.ix_stake(&a.pubkey(), &p.operators[0].tokens, 2_500);
    let tx = p.env.ok(&[stake], &[&a]).await;
    let ev = events::<OperatorStaked>(&tx.logs);
    assert_eq!(ev.len(), 1, "logs: {:?}", tx.logs);
    assert_eq!((ev[0].authority, ev[0].amount, ev[0].stake), (a.pubkey(), 2_500, 102_500));
}

#[tokio::test]
async fn assign_and_finalize_emit_their_events() {
    let mut p = Protocol::standard().await;
    let (_q, request) = p.submitted().await;
    p.make_seed_available().await;
    let assign = p.ix_assign(&request);
    let tx = p.env.ok(&[assign], &[]).await;
    let r = p.request(&request).await;
    let ev = events::<CommitteeAssigned>(&tx.logs);
    assert_eq!(ev.len(), 1);
    let members: Vec<_> = r.committee.members.iter().map(|m| m.operator).collect();
    assert_eq!((ev[0].request, &ev[0].committee, ev[0].seed), (request, &members, r.committee.seed));
    let c = p.committee(&request).await;
    for &op in &c {
        p.commit(&request, op, 0, "x").await;
    }
    for &op in &c {
        p.reveal(&request, op, 0, "x", (1, 1)).await;
    }
    let tx = p.finalize(&request).await;
    let ev = events::<RequestFinalized>(&tx.logs);
    assert_eq!(ev.len(), 1);
    assert_eq!((ev[0].status, ev[0].winning_hash), (RequestStatus::Finalized, p.output_hash(0, "x")));
    assert_eq!(ev[0].receipt, p.request(&request).await.receipt);
}

#[tokio::test]
async fn slashing_emits_operator_slashed_with_its_reason() {
    let mut p = Protocol::standard().await;
    let (_q, request, c) = p.assigned().await;
    p.commit(&request, c[0], 0, "a").await;
    p.commit(&request, c[1], 0, "a").await;
    let r = p.request(&request).await;
    p.env.warp_to(r.committee.commit_deadline + 1).await;
    p.reveal(&request, c[0], 0, "a", (1, 1)).await;
    p.reveal(&request, c[1], 0, "a", (1, 1)).await;
    let tx = p.finalize(&request).await;
    let ev = events::<OperatorSlashed>(&tx.logs);
    assert_eq!(ev.len(), 1);
    let silent = p.operators[c[2]].authority.pubkey();
    assert_eq!(
        (ev[0].request, ev[0].authority, ev[0].amount, ev[0].outcome),
        (request, silent, 10_000, Outcome::NoCommit)
    );
    assert_eq!((ev[0].stake, ev[0].unbonding), (90_000, 0));
    let fin = events::<RequestFinalized>(&tx.logs);
    assert_eq!((fin[0].slashed_total, fin[0].slashed_to_treasury), (10_000, 5_000));
}
