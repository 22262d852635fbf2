//! Slashing at finalize: minority reveal, commit without reveal, no commit; no-majority refunds; and that every
//! slashed token either reaches the treasury's stake account or the honest members' stake (conservation).
use verity::{Outcome, RequestStatus};
use verity_tests::{Protocol, Signer, DEFAULT_FEE};

const GOOD: &str = "The answer is 42.";
const BAD: &str = "The answer is 43.";
const STAKE: u64 = 100_000;
const SLASH: u64 = STAKE / 10; // slash_bps = 1000

/// (vault, treasury stake account) balances: their sum must not change.
async fn tokens(p: &mut Protocol) -> (u64, u64) {
    let ts = p.treasury_stake;
    (p.vault_balance().await, p.env.token_balance(&ts).await)
}

#[tokio::test]
async fn minority_reveal_is_slashed_and_shared_with_the_majority() {
    let mut p = Protocol::standard().await;
    let (_req, request, c) = p.assigned().await;
    let (vault0, ts0) = tokens(&mut p).await;
    for &op in &c {
        p.commit(&request, op, 0, if op == c[2] { BAD } else { GOOD }).await;
    }
    for &op in &c {
        p.reveal(&request, op, 0, if op == c[2] { BAD } else { GOOD }, (5, 10)).await;
    }
    p.finalize(&request).await;

    let r = p.request(&request).await;
    assert_eq!(r.status, RequestStatus::Finalized);
    assert_eq!(r.winning_hash, p.output_hash(0, GOOD));
    assert_eq!(r.receipt.agreement_count, 2);
    let liar = p.operator(c[2]).await;
    assert_eq!(
        (liar.stake, liar.slashed_total, liar.minority, liar.missed, liar.agreed),
        (STAKE - SLASH, SLASH, 1, 0, 0)
    );
    assert_eq!(
        (r.committee.members[2].outcome, r.committee.members[2].slashed, r.committee.members[2].reward),
        (Outcome::Minority, SLASH, 0)
    );
    // Half of the slash to the treasury (slash_treasury_bps = 5000), half shared by the two honest members.
    let per_honest = SLASH / 2 / 2;
    for &op in &c[..2] {
        let o = p.operator(op).await;
        assert_eq!((o.stake, o.agreed), (STAKE + per_honest, 1));
    }
    assert!(r.committee.members[..2].iter().all(|m| m.outcome == Outcome::Agreed && m.slash_share == per_honest));
    let royalty = DEFAULT_FEE / 10;
    let protocol = DEFAULT_FEE / 20;
    assert_eq!(r.committee.members[0].reward, (DEFAULT_FEE - royalty - protocol) / 2);
    let (vault, ts) = tokens(&mut p).await;
    assert_eq!((vault, ts), (vault0 - SLASH / 2, ts0 + SLASH / 2), "treasury share left the vault");
    let reg = p.registry().await;
    let e = reg.entries.iter().find(|e| e.authority == p.operators[c[2]].authority.pubkey()).unwrap();
    assert_eq!(e.stake, STAKE - SLASH, "registry mirrors the slashed stake");
    p.assert_vault_matches_books().await;
}

#[tokio::test]
async fn commit_without_reveal_is_slashed() {
    let mut p = Protocol::standard().await;
    let (_req, request, c) = p.assigned().await;
    let (vault0, ts0) = tokens(&mut p).await;
    for &op in &c {
        p.commit(&request, op, 0, GOOD).await;
    }
    p.reveal(&request, c[0], 0, GOOD, (5, 10)).await;
    p.reveal(&request, c[1], 0, GOOD, (5, 10)).await;
    // One member never reveals: finalize only after the reveal deadline.
    let early = p.request(&request).await;
    let fin = p.ix_finalize(&request, &early);
    p.env.expect_err(&[fin], &[], verity::VerityError::FinalizeTooEarly).await;
    p.pass_reveal_deadline(&request).await;
    p.finalize(&request).await;

    let r = p.request(&request).await;
    assert_eq!(r.status, RequestStatus::Finalized);
    assert_eq!((r.committee.members[2].outcome, r.committee.members[2].slashed), (Outcome::NoReveal, SLASH));
    let silent = p.operator(c[2]).await;
    assert_eq!((silent.stake, silent.missed, silent.minority, silent.slashed_total), (STAKE - SLASH, 1, 0, SLASH));
    let (vault, ts) = tokens(&mut p).await;
    assert_eq!(vault + ts, vault0 + ts0, "stake tokens conserved");
    assert_eq!(ts, ts0 + SLASH / 2);
    p.assert_vault_matches_books().await;
}

#[tokio::test]
async fn no_commit_is_slashed() {
    let mut p = Protocol::standard().await;
    let (_req, request, c) = p.assigned().await;
    p.commit(&request, c[0], 0, GOOD).await;
    p.commit(&request, c[1], 0, GOOD).await;
    let r = p.request(&request).await;
    p.env.warp_to(r.committee.commit_deadline + 1).await;
    // The first reveal after the commit deadline opens the reveal phase.
    p.reveal(&request, c[0], 0, GOOD, (5, 10)).await;
    p.reveal(&request, c[1], 0, GOOD, (5, 10)).await;
    let r = p.request(&request).await;
    assert_eq!(r.status, RequestStatus::Revealing);
    assert_eq!(r.committee.reveal_deadline, r.committee.commit_deadline + p.params.reveal_window);
    // Every committed member revealed: finalize may run before the reveal deadline.
    p.finalize(&request).await;

    let r = p.request(&request).await;
    assert_eq!((r.status, r.committee.members[2].outcome), (RequestStatus::Finalized, Outcome::NoCommit));
    let o = p.operator(c[2]).await;
    assert_eq!((o.stake, o.missed, o.slashed_total, o.assigned), (STAKE - SLASH, 1, SLASH, 1));
    p.assert_vault_matches_books().await;
}

#[tokio::test]
async fn no_majority_escalates_keeps_the_fee_and_slashes_only_the_silent() {
    let mut p = Protocol::standard().await;
    let (req, request, c) = p.assigned().await;
    let (vault0, ts0) = tokens(&mut p).await;
    p.commit(&request, c[0], 0, GOOD).await;
    p.commit(&request, c[1], 0, BAD).await;
    p.commit(&request, c[2], 0, "something else").await;
    p.reveal(&request, c[0], 0, GOOD, (1, 1)).await;
    p.reveal(&request, c[1], 0, BAD, (1, 1)).await;
    let treasury0 = p.env.lamports(&p.treasury).await;
    let req0 = p.env.lamports(&req.pubkey()).await;
    p.pass_reveal_deadline(&request).await;
    p.finalize(&request).await;

    let r = p.request(&request).await;
    assert_eq!(r.status, RequestStatus::Escalated);
    assert_eq!(p.env.lamports(&req.pubkey()).await, req0, "the fee stays escrowed for the escalation round");
    assert_eq!(p.env.lamports(&p.treasury).await, treasury0, "no protocol fee without consensus");
    let outcomes: Vec<_> = r.committee.members.iter().map(|m| m.outcome).collect();
    assert_eq!(outcomes, vec![Outcome::Inconclusive, Outcome::Inconclusive, Outcome::NoReveal]);
    assert_eq!(p.operator(c[0]).await.stake, STAKE, "revealers are not slashed without a majority");
    assert_eq!(p.operator(c[2]).await.stake, STAKE - SLASH);
    // No honest member to share with: the whole slash goes to the treasury.
    assert_eq!(tokens(&mut p).await, (vault0 - SLASH, ts0 + SLASH));
    p.assert_vault_matches_books().await;
}

#[tokio::test]
async fn nobody_commits_everyone_slashed_then_unescalated_request_expires_with_a_refund() {
    let mut p = Protocol::standard().await;
    let (req, request, c) = p.assigned().await;
    let (vault0, ts0) = tokens(&mut p).await;
    let req0 = p.env.lamports(&req.pubkey()).await;
    p.pass_reveal_deadline(&request).await;
    p.finalize(&request).await;
    let r = p.request(&request).await;
    assert_eq!(r.status, RequestStatus::Escalated);
    assert!(r.committee.members.iter().all(|m| m.outcome == Outcome::NoCommit && m.slashed == SLASH));
    for &op in &c {
        assert_eq!(p.operator(op).await.stake, STAKE - SLASH);
    }
    assert_eq!(tokens(&mut p).await, (vault0 - 3 * SLASH, ts0 + 3 * SLASH));
    assert_eq!(p.env.lamports(&req.pubkey()).await, req0);
    // Nobody opens the escalation: after the assign window anyone expires it and the fee goes back.
    let expire = p.ix_expire(&request, &req.pubkey());
    p.env.expect_err(std::slice::from_ref(&expire), &[], verity::VerityError::ExpireTooEarly).await;
    p.env.warp_to(r.finalized_slot + p.params.assign_window + 1).await;
    p.env.ok(&[expire], &[]).await;
    assert_eq!(p.request(&request).await.status, RequestStatus::NoConsensus);
    assert_eq!(p.env.lamports(&req.pubkey()).await, req0 + DEFAULT_FEE);
    // The request can be closed at once (nothing to claim).
    let close = p.ix_close(&req.pubkey(), &request);
    p.env.ok(&[close], &[&req]).await;
    assert!(!p.env.exists(&request).await);
    p.assert_vault_matches_books().await;
}

#[tokio::test]
async fn unbonding_stake_is_still_slashable() {
    let mut p = Protocol::standard().await;
    let (_req, request, c) = p.assigned().await;
    // The member starts unbonding everything after being drawn, then stays silent.
    let quitter = p.operators[c[0]].authority.insecure_clone();
    let unstake = p.ix_request_unstake(&quitter.pubkey(), STAKE);
    p.env.ok(&[unstake], &[&quitter]).await;
    let o = p.operator(c[0]).await;
    assert_eq!((o.stake, o.unbonding), (0, STAKE));
    for &op in &c[1..] {
        p.commit(&request, op, 0, GOOD).await;
    }
    let r = p.request(&request).await;
    p.env.warp_to(r.committee.commit_deadline + 1).await;
    for &op in &c[1..] {
        p.reveal(&request, op, 0, GOOD, (1, 1)).await;
    }
    p.finalize(&request).await;
    let o = p.operator(c[0]).await;
    assert_eq!((o.stake, o.unbonding, o.slashed_total), (0, STAKE - SLASH, SLASH), "slashed from unbonding");

    // After release it withdraws only what is left.
    p.env.warp_to(o.release_slot).await;
    let dest = p.operators[c[0]].tokens;
    let before = p.env.token_balance(&dest).await;
    let w = p.ix_withdraw_stake(&quitter.pubkey(), &dest);
    p.env.ok(&[w], &[&quitter]).await;
    assert_eq!(p.env.token_balance(&dest).await, before + STAKE - SLASH);
    assert_eq!(p.operator(c[0]).await.unbonding, 0);
    p.assert_vault_matches_books().await;
}
