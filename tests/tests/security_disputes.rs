//! Security classes for the second round and the callback: missing signers, type cosplay (a forged Dispute
//! account), PDA sharing (another request's Dispute), copied commitments in the 2k+1 round, and aliasing (the
//! requester challenging its own request, so one wallet is both `requester` and `opener`). Each case asserts the
//! error of the check that stops it.
use {
    anchor_lang::error::ErrorCode as Anchor,
    solana_instruction::AccountMeta,
    verity::{DisputePhase, Outcome, RequestStatus, RevealArgs, Verdict, VerityError},
    verity_tests::{attack::strip_signer, default_params, pda, salt, Keypair, Protocol, Pubkey, Signer, SOL},
};

const ANSWER: &str = "The answer is 42.";
const LIE: &str = "The answer is 43.";

async fn ten() -> Protocol {
    Protocol::with_operators(default_params(), 10, 100_000).await
}

#[tokio::test]
async fn second_round_instructions_require_their_signers() {
    let mut p = ten().await;
    let ch = p.env.funded_keypair(10 * SOL).await;
    let (_req, request, _c) = p.first_round(&[Some(ANSWER); 3]).await;
    let open = strip_signer(p.ix_open_dispute(&ch.pubkey(), &request), &ch.pubkey());
    p.env.expect_err(&[open], &[], Anchor::AccountNotSigner).await;
    p.env.ok(&[p.ix_open_dispute(&ch.pubkey(), &request)], &[&ch]).await;
    let dc = p.assign_dispute(&request).await;
    let m = p.operators[dc[0]].authority.pubkey();
    let commit = strip_signer(p.ix_commit_dispute_text(&request, dc[0], 0, ANSWER), &m);
    p.env.expect_err(&[commit], &[], Anchor::AccountNotSigner).await;
    p.commit_dispute(&request, dc[0], 0, ANSWER).await;
    let d = p.dispute(&request).await;
    p.env.warp_to(d.committee.commit_deadline + 1).await;
    let reveal = strip_signer(p.ix_reveal_dispute_text(&request, dc[0], 0, ANSWER), &m);
    p.env.expect_err(&[reveal], &[], Anchor::AccountNotSigner).await;
}

#[tokio::test]
async fn a_forged_or_foreign_dispute_account_is_refused() {
    let mut p = ten().await;
    let ch = p.env.funded_keypair(10 * SOL).await;
    let (_q1, a, _) = p.first_round(&[Some(ANSWER); 3]).await;
    p.env.ok(&[p.ix_open_dispute(&ch.pubkey(), &a)], &[&ch]).await;
    // A second finalized request with its own dispute.
    let q2 = p.requester(10 * SOL).await;
    let b = p.submit(&q2, 0, verity_tests::submit_args(2, "other", 20, 1_000_000)).await;
    let cb = p.assign(&b).await;
    for &o in &cb {
        p.commit(&b, o, 0, ANSWER).await;
    }
    for &o in &cb {
        p.reveal(&b, o, 0, ANSWER, (1, 1)).await;
    }
    p.finalize(&b).await;
    p.env.ok(&[p.ix_open_dispute(&ch.pubkey(), &b)], &[&ch]).await;
    // PDA sharing: resolving request A with B's Dispute account fails the seeds check.
    let (ra, db) = (p.request(&a).await, p.dispute(&b).await);
    let resolve =
        verity_tests::attack::swap_account(p.ix_resolve_dispute(&a, &ra, &db), &pda::dispute(&a), &pda::dispute(&b));
    p.env.expect_err(&[resolve], &[], Anchor::ConstraintSeeds).await;

    // Resolve A (upheld), so that its output may be written.
    let da = p.assign_dispute(&a).await;
    p.dispute_round(&a, &da, &[Some(ANSWER); 7]).await;
    p.resolve_dispute(&a).await;
    let ra = p.request(&a).await;
    assert_eq!(ra.status, RequestStatus::Finalized);
    // Type cosplay: an attacker plants a "resolved Dispute" (owned by Verity, naming it as an Agreed member with
    // the winning hash) at an address of its choice and passes it to write_output.
    let attacker = p.env.funded_keypair(SOL).await;
    let mut fake = p.dispute(&a).await;
    fake.phase = DisputePhase::Resolved;
    fake.winning_hash = ra.winning_hash;
    let mut member = verity::Member::new(attacker.pubkey());
    member.outcome = Outcome::Agreed;
    fake.committee.members = vec![member];
    let forged = Pubkey::new_unique();
    p.env.plant_anchor(&forged, &verity::ID, &fake, 8 + <verity::Dispute as anchor_lang::Space>::INIT_SPACE).await;
    let mut w = p.ix_write_output(&attacker.pubkey(), &a, 0, 4, b"evil");
    w.accounts.push(AccountMeta::new_readonly(forged, false));
    p.env.expect_err(&[w], &[&attacker], VerityError::AccountMismatch).await;
    // The real Dispute PDA does not list the attacker: NotMajorityMember.
    let w = p.ix_write_output_dispute(&attacker.pubkey(), &a, 0, 4, b"evil");
    p.env.expect_err(&[w], &[&attacker], VerityError::NotMajorityMember).await;
    assert!(p.env.account::<verity::Output>(&pda::output(&a)).await.data.is_empty());
}

#[tokio::test]
async fn a_copied_commitment_in_the_second_round_cannot_be_opened() {
    let mut p = ten().await;
    let ch = p.env.funded_keypair(10 * SOL).await;
    let (_req, request, _c) = p.first_round(&[Some(ANSWER); 3]).await;
    p.env.ok(&[p.ix_open_dispute(&ch.pubkey(), &request)], &[&ch]).await;
    let dc = p.assign_dispute(&request).await;
    p.commit_dispute(&request, dc[0], 0, ANSWER).await;
    let honest = p.dispute(&request).await.committee.members[0].commitment;
    let (copier, cauth) = (dc[1], p.operators[dc[1]].authority.insecure_clone());
    p.env.ok(&[p.ix_commit_dispute(&cauth.pubkey(), &request, honest)], &[&cauth]).await;
    let d = p.dispute(&request).await;
    p.env.warp_to(d.committee.commit_deadline + 1).await;
    p.reveal_dispute(&request, dc[0], 0, ANSWER).await;
    // The copier learns the honest opening from the reveal and replays it: bound to the other key, it fails.
    let args = RevealArgs { output_hash: p.output_hash(0, ANSWER), salt: salt(dc[0]), tokens_in: 1, tokens_out: 1 };
    let replay = p.ix_reveal_dispute(&cauth.pubkey(), &request, args);
    p.env.expect_err(&[replay], &[&cauth], VerityError::CommitmentMismatch).await;
    let _ = copier;
}

#[tokio::test]
async fn the_requester_may_challenge_its_own_request_requester_and_opener_alias() {
    let mut p = ten().await;
    let (req, request, c) = p.first_round(&[Some(LIE), Some(LIE), Some(ANSWER)]).await;
    let req: Keypair = req;
    let before = p.env.lamports(&req.pubkey()).await;
    p.env.ok(&[p.ix_open_dispute(&req.pubkey(), &request)], &[&req]).await;
    let dc = p.assign_dispute(&request).await;
    p.dispute_round(&request, &dc, &[Some(ANSWER); 7]).await;
    p.resolve_dispute(&request).await;
    let (r, d) = (p.request(&request).await, p.dispute(&request).await);
    assert_eq!(
        (d.verdict, r.status, d.opener, r.requester),
        (Verdict::Overturned, RequestStatus::Finalized, req.pubkey(), req.pubkey())
    );
    let rent = p.env.rent_exempt(8 + <verity::Dispute as anchor_lang::Space>::INIT_SPACE).await;
    assert_eq!(p.env.lamports(&req.pubkey()).await, before - rent + d.challenger_reward);
    assert!(c.iter().take(2).all(|&o| r
        .committee
        .members
        .iter()
        .any(|m| m.operator == p.operators[o].authority.pubkey() && m.outcome == Outcome::Overturned)));
    p.assert_vault_matches_books().await;
}
