//! Stake at risk (tests/BUGS.md #8, issue "every seat backed by stake"): no operator is drawn at a weight its
//! vault no longer holds, and a first-round majority stays slashable until its dispute window is over, whatever
//! it does — recycling pending registry changes, unbonding timed across finalize, or being evicted from the
//! registry. An evicted, unbonding operator can always withdraw. Each test runs the attack sequence and asserts
//! the error (or the state) that stops it.
use {
    verity::{Outcome, RequestStatus, Verdict, VerityError, MAX_OPERATORS},
    verity_tests::{default_params, submit_args, Keypair, Protocol, Pubkey, Signer, SOL},
};

const ANSWER: &str = "The answer is 42.";
const LIE: &str = "The answer is 43.";

/// Fills the registry to MAX_OPERATORS entries with staked operators serving model 0.
async fn fill_registry(p: &mut Protocol) {
    while p.registry().await.entries.len() < MAX_OPERATORS {
        p.add_operator(100_000).await;
    }
}

/// Operator `i` unstakes all of its 100_000 stake; returns its authority, token account and release slot.
async fn unstake_all(p: &mut Protocol, i: usize) -> (Keypair, Pubkey, u64) {
    let key = p.operators[i].authority.insecure_clone();
    p.env.ok(&[p.ix_request_unstake(&key.pubkey(), 100_000)], &[&key]).await;
    let release = p.operator(i).await.release_slot;
    (key, p.operators[i].tokens, release)
}

/// The attack measured on main: unstake everything, then keep replacing the pending registry change
/// (`[set_served_models(0), set_served_models(1)]` every ~10 slots) so the old values stay in force, withdraw,
/// and still be drawn at the old weight. Replacing a pending change never postpones it, so the operator leaves
/// the draw `assign_window + 1` slots after unstaking and is never drawn once its vault share is gone.
#[tokio::test]
async fn recycled_pending_changes_never_keep_withdrawn_stake_drawable() {
    let mut p = Protocol::with_operators(default_params(), 4, 100_000).await;
    let (attacker, tokens, release) = unstake_all(&mut p, 0).await;
    while p.env.slot().await < release {
        p.env.warp_by(10).await;
        let flip = [p.ix_set_served_models(&attacker.pubkey(), 0), p.ix_set_served_models(&attacker.pubkey(), 1)];
        p.env.ok(&flip, &[&attacker]).await;
    }
    p.env.ok(&[p.ix_withdraw_stake(&attacker.pubkey(), &tokens)], &[&attacker]).await;
    let op = p.operator(0).await;
    assert_eq!((op.stake, op.unbonding), (0, 0));
    p.assert_vault_matches_books().await;
    // The attacker keeps flipping; 13 requests over the next slots never draw it.
    let mut drawn = 0;
    for n in 0..13u64 {
        let flip = [p.ix_set_served_models(&attacker.pubkey(), 0), p.ix_set_served_models(&attacker.pubkey(), 1)];
        p.env.ok(&flip, &[&attacker]).await;
        let requester = p.requester(10 * SOL).await;
        let request = p.submit(&requester, 0, submit_args(100 + n, "hi", 20, 1_000_000)).await;
        let c = p.assign(&request).await;
        drawn += c.contains(&0) as u32;
        p.env.warp_by(8).await;
    }
    assert_eq!(drawn, 0, "an operator with no stake in the vault was drawn into {drawn} of 13 committees");
}

/// `[finalize_request, withdraw_stake]` in one transaction, with the unbonding timed to end at finalize: the
/// majority member would leave with its stake before anyone could dispute. Finalize locks the majority until
/// the dispute window is over (`StakeLocked`); afterwards the withdraw goes through.
#[tokio::test]
async fn a_majority_cannot_withdraw_across_finalize() {
    let mut p = Protocol::with_operators(default_params(), 3, 100_000).await;
    // Unstake right before the request: the values in force at submit still draw it (activation delay).
    let (m, tokens, release) = unstake_all(&mut p, 0).await;
    let (_q, request) = p.submitted().await;
    let c = p.agree(&request, ANSWER).await;
    assert!(c.contains(&0), "k = 3 of 3 operators: the unbonding member sits on the committee");
    p.env.warp_to(release).await;
    let r = p.request(&request).await;
    let both = [p.ix_finalize(&request, &r), p.ix_withdraw_stake(&m.pubkey(), &tokens)];
    p.env.expect_err(&both, &[&m], VerityError::StakeLocked).await;
    p.finalize(&request).await;
    p.env.expect_err(&[p.ix_withdraw_stake(&m.pubkey(), &tokens)], &[&m], VerityError::StakeLocked).await;
    assert_eq!(p.operator(0).await.unbonding, 100_000, "stake stays slashable during the dispute window");
    p.pass_dispute_window(&request).await;
    p.env.ok(&[p.ix_withdraw_stake(&m.pubkey(), &tokens)], &[&m]).await;
    p.assert_vault_matches_books().await;
}

/// The majority member unbonds so that its registry entry is idle right after finalize, then a newcomer's
/// registration evicts an idle entry from the full registry before the challenge opens (the lock used to follow
/// registry membership, so the evicted member escaped it and the overturn's slash). Its entry is locked until
/// the dispute window ends and is not evicted; the challenge holds it and the overturn slashes it.
#[tokio::test]
async fn an_overturned_majority_cannot_escape_by_eviction() {
    let mut p = Protocol::with_operators(default_params(), 3, 100_000).await;
    let (liar, tokens, _) = unstake_all(&mut p, 0).await;
    let (_q, request) = p.submitted().await;
    p.agree(&request, LIE).await;
    fill_registry(&mut p).await;
    // Finalize once the unbonding is in force for every readable slot (the entry would be evictable) and the
    // other operators' stake is in force (the 2k+1 round draws them).
    p.env.warp_by(2 * p.params.assign_window + 2).await;
    p.finalize(&request).await;
    // A staked newcomer wants in; the only idle entry is the locked liar's.
    let newcomer = p.env.funded_keypair(SOL).await;
    let reg = p.ix_register_operator(&newcomer.pubkey(), 1);
    p.env.expect_err(&[reg], &[&newcomer], VerityError::RegistryFull).await;
    let reg = p.registry().await;
    assert!(reg.find(&liar.pubkey()).is_some(), "a locked majority member was evicted");
    // The challenge holds it; withdraw is refused until the verdict.
    let ch = p.env.funded_keypair(10 * SOL).await;
    p.env.ok(&[p.ix_open_dispute(&ch.pubkey(), &request)], &[&ch]).await;
    p.pass_dispute_window(&request).await;
    p.env.expect_err(&[p.ix_withdraw_stake(&liar.pubkey(), &tokens)], &[&liar], VerityError::OpenAssignments).await;
    let d = p.assign_dispute(&request).await;
    p.dispute_round(&request, &d, &[Some(ANSWER); 7]).await;
    p.resolve_dispute(&request).await;
    assert_eq!(p.dispute(&request).await.verdict, Verdict::Overturned);
    let r = p.request(&request).await;
    assert_eq!(r.status, RequestStatus::Finalized);
    let m = r.committee.members.iter().find(|m| m.operator == liar.pubkey()).expect("member");
    assert_eq!(m.outcome, Outcome::Overturned);
    let op = p.operator(0).await;
    assert_eq!(op.slashed_total, 10_000, "the overturned member lost slash_bps of its stake");
    assert_eq!(op.unbonding, 90_000);
    p.env.ok(&[p.ix_withdraw_stake(&liar.pubkey(), &tokens)], &[&liar]).await;
    p.assert_vault_matches_books().await;
}

/// An unbonding operator that a full registry evicted must still withdraw: withdraw never needs a free slot
/// (it used to re-add the entry and fail with `RegistryFull`).
#[tokio::test]
async fn an_evicted_unbonding_operator_can_always_withdraw() {
    let mut p = Protocol::with_operators(default_params(), 3, 100_000).await;
    let (leaver, tokens, release) = unstake_all(&mut p, 0).await;
    fill_registry(&mut p).await;
    p.env.warp_to(release).await;
    // A staked newcomer's registration evicts the idle leaver; no entry is removable any more.
    p.add_operator(100_000).await;
    let reg = p.registry().await;
    assert_eq!(reg.entries.len(), MAX_OPERATORS);
    assert!(reg.find(&leaver.pubkey()).is_none(), "the idle leaver was the one evicted");
    let before = p.env.token_balance(&tokens).await;
    p.env.ok(&[p.ix_withdraw_stake(&leaver.pubkey(), &tokens)], &[&leaver]).await;
    assert_eq!(p.env.token_balance(&tokens).await, before + 100_000);
    assert!(p.registry().await.find(&leaver.pubkey()).is_none(), "withdraw needed no registry slot");
    // It can leave for good.
    p.env.ok(&[p.ix_deregister_operator(&leaver.pubkey())], &[&leaver]).await;
}
