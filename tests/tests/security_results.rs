//! Paid-for results stay writable and disputable (tests/BUGS.md #8): nobody can close the account a second
//! round's majority needs to write the output, nobody but the current writer can truncate an output in progress,
//! and a request closed after a dispute leaves no Dispute account behind that would make a later request with
//! the same nonce undisputable. Each test runs the attack and asserts the program's error or the state.
use {
    verity::{RequestStatus, Verdict, VerityError, OUTPUT_HANDOVER_SLOTS, RESULT_KEEP_SLOTS},
    verity_tests::{default_params, pda, submit_args, Keypair, Protocol, Pubkey, Signer, SOL},
};

const ANSWER: &str = "The answer is 42.";
const LIE: &str = "The answer is 43.";
const OTHER: &str = "No idea.";

async fn ten() -> Protocol {
    Protocol::with_operators(default_params(), 10, 100_000).await
}

/// A 1-1-1 first round escalated and decided 7/7 by the second round (opened by `cranker`).
async fn decided_escalation() -> (Protocol, Keypair, Pubkey, Vec<usize>, Keypair) {
    let mut p = ten().await;
    let cranker = p.env.funded_keypair(SOL).await;
    let (req, request, _c) = p.first_round(&[Some(ANSWER), Some(LIE), Some(OTHER)]).await;
    p.env.ok(&[p.ix_open_dispute(&cranker.pubkey(), &request)], &[&cranker]).await;
    let dc = p.assign_dispute(&request).await;
    p.dispute_round(&request, &dc, &[Some(ANSWER); 7]).await;
    p.resolve_dispute(&request).await;
    assert_eq!(p.dispute(&request).await.verdict, Verdict::Decided);
    (p, req, request, dc, cranker)
}

/// `claim_dispute_reward` ×(2k+1) + `close_dispute` right after `resolve_dispute` used to close the Dispute
/// account before the escalation majority wrote the output, leaving the paid-for result unwritable (and its
/// callback undeliverable). The Dispute stays until the output is complete; then anyone closes it.
#[tokio::test]
async fn an_escalated_result_stays_writable_until_written() {
    let (mut p, req, request, dc, cranker) = decided_escalation().await;
    // The attack: claim every reward at once, then close the Dispute account.
    let claims: Vec<_> =
        dc.iter().map(|&op| p.ix_claim_dispute_reward(&request, &p.operators[op].authority.pubkey())).collect();
    p.env.ok(&claims, &[]).await;
    let close = p.ix_close_dispute(&request, &cranker.pubkey());
    p.env.expect_err(std::slice::from_ref(&close), &[], VerityError::ResultStillNeeded).await;
    // Neither can the requester close the request (and its Output) while the Dispute is alive.
    p.env.expect_err(&[p.ix_close(&req.pubkey(), &request)], &[&req], VerityError::DisputeNotClosed).await;
    // The majority writes; then the Dispute and the request close.
    let writer = p.operators[dc[0]].authority.insecure_clone();
    let w = p.ix_write_output_dispute(&writer.pubkey(), &request, 0, ANSWER.len() as u32, ANSWER.as_bytes());
    p.env.ok(&[w], &[&writer]).await;
    assert!(p.env.account::<verity::Output>(&pda::output(&request)).await.complete);
    p.env.ok(&[close], &[]).await;
    p.env.ok(&[p.ix_close(&req.pubkey(), &request)], &[&req]).await;
}

/// A majority that never writes cannot keep the Dispute's rent hostage: `RESULT_KEEP_SLOTS` after resolution
/// anyone may close it.
#[tokio::test]
async fn an_unwritten_result_releases_its_accounts_after_the_keep_window() {
    let (mut p, req, request, dc, cranker) = decided_escalation().await;
    let claims: Vec<_> =
        dc.iter().map(|&op| p.ix_claim_dispute_reward(&request, &p.operators[op].authority.pubkey())).collect();
    p.env.ok(&claims, &[]).await;
    let close = p.ix_close_dispute(&request, &cranker.pubkey());
    let resolved = p.dispute(&request).await.resolved_slot;
    p.env.warp_to(resolved + RESULT_KEEP_SLOTS).await;
    p.env.expect_err(std::slice::from_ref(&close), &[], VerityError::ResultStillNeeded).await;
    p.env.warp_to(resolved + RESULT_KEEP_SLOTS + 1).await;
    p.env.ok(&[close], &[]).await;
    p.env.ok(&[p.ix_close(&req.pubkey(), &request)], &[&req]).await;
}

/// Any Agreed member used to rewrite an output from offset 0 and keep truncating a multi-transaction output. Only
/// the member writing it may continue; another takes over after `OUTPUT_HANDOVER_SLOTS` slots without progress.
#[tokio::test]
async fn only_the_current_writer_extends_an_output() {
    let mut p = Protocol::standard().await;
    let (_req, request, c) = p.first_round(&[Some(ANSWER); 3]).await;
    let (a, b) = (p.operators[c[0]].authority.insecure_clone(), p.operators[c[1]].authority.insecure_clone());
    let len = ANSWER.len() as u32;
    p.env.ok(&[p.ix_write_output(&a.pubkey(), &request, 0, len, &ANSWER.as_bytes()[..6])], &[&a]).await;
    let truncate = p.ix_write_output(&b.pubkey(), &request, 0, len, b"The q");
    p.env.expect_err(std::slice::from_ref(&truncate), &[&b], VerityError::OutputWriterBusy).await;
    p.env.warp_by(OUTPUT_HANDOVER_SLOTS - 1).await;
    p.env.expect_err(&[truncate], &[&b], VerityError::OutputWriterBusy).await;
    let out: verity::Output = p.env.account(&pda::output(&request)).await;
    assert_eq!(out.data, ANSWER.as_bytes()[..6].to_vec(), "the other member changed nothing");
    // The writer goes on; after it stalls, the other member takes over and completes.
    p.env.ok(&[p.ix_write_output(&a.pubkey(), &request, 6, len, &ANSWER.as_bytes()[6..10])], &[&a]).await;
    p.env.warp_by(OUTPUT_HANDOVER_SLOTS + 1).await;
    p.env.ok(&[p.ix_write_output(&b.pubkey(), &request, 0, len, ANSWER.as_bytes())], &[&b]).await;
    let out: verity::Output = p.env.account(&pda::output(&request)).await;
    assert!(out.complete);
    assert_eq!((out.data.as_slice(), out.last_writer), (ANSWER.as_bytes(), b.pubkey()));
}

/// Reusing a nonce after `close_request` while the old Dispute PDA survived made the new request undisputable
/// (`AlreadyDisputed` on its first challenge). The request closes only after its Dispute; a reused nonce starts
/// clean and can be challenged.
#[tokio::test]
async fn a_reused_nonce_can_be_challenged_again() {
    let mut p = ten().await;
    let ch = p.env.funded_keypair(10 * SOL).await;
    let (req, request, c) = p.first_round(&[Some(ANSWER); 3]).await;
    p.env.ok(&[p.ix_open_dispute(&ch.pubkey(), &request)], &[&ch]).await;
    let dc = p.assign_dispute(&request).await;
    p.dispute_round(&request, &dc, &[Some(ANSWER); 7]).await;
    p.resolve_dispute(&request).await;
    assert_eq!(p.dispute(&request).await.verdict, Verdict::Upheld);
    for &op in c.iter() {
        p.env.ok(&[p.ix_claim(&request, &p.operators[op].authority.pubkey())], &[]).await;
    }
    let claims: Vec<_> =
        dc.iter().map(|&op| p.ix_claim_dispute_reward(&request, &p.operators[op].authority.pubkey())).collect();
    p.env.ok(&claims, &[]).await;
    p.env.expect_err(&[p.ix_close(&req.pubkey(), &request)], &[&req], VerityError::DisputeNotClosed).await;
    p.env.ok(&[p.ix_close_dispute(&request, &ch.pubkey())], &[]).await;
    p.env.ok(&[p.ix_close(&req.pubkey(), &request)], &[&req]).await;
    // Same requester, same nonce: the same Request address, a fresh round, and a challenge is accepted.
    let again = p.submit(&req, 0, submit_args(1, "Say hello.", 20, 1_000_000)).await;
    assert_eq!(again, request);
    p.agree(&again, ANSWER).await;
    p.finalize(&again).await;
    assert_eq!(p.request(&again).await.status, RequestStatus::Finalized);
    p.env.ok(&[p.ix_open_dispute(&ch.pubkey(), &again)], &[&ch]).await;
    assert_eq!(p.request(&again).await.status, RequestStatus::Disputed);
}
