//! Commit-reveal rejections: non-members, double commits, copied commitments, mismatching reveals, reveals
//! outside their window, and the assign crank's own checks — each with the program's specific error.
use verity::{RequestStatus, RevealArgs, VerityError};
use verity_tests::{pda, salt, Protocol, Signer};

const TEXT: &str = "forty-two";

#[tokio::test]
async fn non_member_cannot_commit_or_reveal() {
    let mut p = Protocol::standard().await;
    let outsider = p.add_operator(0).await; // registered, no stake: never drawn
    let (_r, request, _c) = p.assigned().await;
    let ix = p.ix_commit_text(&request, outsider, 0, TEXT);
    let a = p.operators[outsider].authority.insecure_clone();
    p.env.expect_err(&[ix], &[&a], VerityError::NotCommitteeMember).await;
    let ix = p.ix_reveal_text(&request, outsider, 0, TEXT, (1, 1));
    p.env.expect_err(&[ix], &[&a], VerityError::NotCommitteeMember).await;
    assert_eq!(p.request(&request).await.committee.committed_count, 0);
}

#[tokio::test]
async fn double_commit() {
    let mut p = Protocol::standard().await;
    let (_r, request, c) = p.assigned().await;
    p.commit(&request, c[0], 0, TEXT).await;
    let again = p.ix_commit_text(&request, c[0], 0, "changed my mind");
    let a = p.operators[c[0]].authority.insecure_clone();
    p.env.expect_err(&[again], &[&a], VerityError::AlreadyCommitted).await;
    let r = p.request(&request).await;
    assert_eq!(r.committee.committed_count, 1);
    let want = pda::commitment(&request, &a.pubkey(), &p.output_hash(0, TEXT), &salt(c[0]));
    assert_eq!(r.committee.members[0].commitment, want, "first commitment kept");
}

#[tokio::test]
async fn commit_outside_the_commit_phase() {
    let mut p = Protocol::standard().await;
    let (_r, request) = p.submitted().await;
    let a = p.operators[0].authority.insecure_clone();
    // Before assignment there is no committee to be a member of.
    let early = p.ix_commit_text(&request, 0, 0, TEXT);
    p.env.expect_err(&[early], &[&a], VerityError::NotCommitteeMember).await;

    let c = p.assign(&request).await;
    let r = p.request(&request).await;
    p.env.warp_to(r.committee.commit_deadline).await;
    p.commit(&request, c[1], 0, TEXT).await; // the deadline slot itself is inside the window
    p.env.warp_to(r.committee.commit_deadline + 1).await;
    let late = p.ix_commit_text(&request, c[0], 0, TEXT);
    let a = p.operators[c[0]].authority.insecure_clone();
    p.env.expect_err(&[late], &[&a], VerityError::CommitWindowClosed).await;
}

#[tokio::test]
async fn commit_once_the_reveal_phase_is_open() {
    let mut p = Protocol::standard().await;
    let (_r, request, c) = p.assigned().await;
    p.commit(&request, c[0], 0, TEXT).await;
    p.commit(&request, c[1], 0, TEXT).await;
    let a0 = p.operators[c[0]].authority.insecure_clone();
    let again = p.ix_commit_text(&request, c[0], 0, TEXT);
    p.env.expect_err(&[again], &[&a0], VerityError::AlreadyCommitted).await;
    let r = p.request(&request).await;
    p.env.warp_to(r.committee.commit_deadline + 1).await;
    p.reveal(&request, c[0], 0, TEXT, (1, 1)).await; // opens the reveal phase
    assert_eq!(p.request(&request).await.status, RequestStatus::Revealing);
    let late = p.ix_commit_text(&request, c[2], 0, TEXT);
    let a2 = p.operators[c[2]].authority.insecure_clone();
    p.env.expect_err(&[late], &[&a2], VerityError::RequestNotCommitting).await;
}

#[tokio::test]
async fn reveal_must_match_the_commitment() {
    let mut p = Protocol::standard().await;
    let (_r, request, c) = p.assigned().await;
    for &op in &c {
        p.commit(&request, op, 0, TEXT).await;
    }
    let a = p.operators[c[0]].authority.insecure_clone();
    let other_text = p.ix_reveal_text(&request, c[0], 0, "forty-three", (1, 1));
    p.env.expect_err(&[other_text], &[&a], VerityError::CommitmentMismatch).await;
    let wrong_salt = RevealArgs { output_hash: p.output_hash(0, TEXT), salt: [9; 32], tokens_in: 1, tokens_out: 1 };
    let ix = p.ix_reveal(&a.pubkey(), &request, wrong_salt);
    p.env.expect_err(&[ix], &[&a], VerityError::CommitmentMismatch).await;
    assert_eq!(p.request(&request).await.committee.revealed_count, 0);
}

#[tokio::test]
async fn a_copied_commitment_cannot_be_revealed() {
    let mut p = Protocol::standard().await;
    let (_r, request, c) = p.assigned().await;
    // Member 0 commits honestly; member 1 copies member 0's commitment bytes.
    p.commit(&request, c[0], 0, TEXT).await;
    let honest = p.request(&request).await.committee.members[0].commitment;
    let copier = p.operators[c[1]].authority.insecure_clone();
    let copy = p.ix_commit(&copier.pubkey(), &request, honest);
    p.env.ok(&[copy], &[&copier]).await;
    p.commit(&request, c[2], 0, TEXT).await;
    // Even after member 0 reveals (hash and salt public), the copier cannot open the copied commitment.
    p.reveal(&request, c[0], 0, TEXT, (1, 1)).await;
    let stolen = RevealArgs { output_hash: p.output_hash(0, TEXT), salt: salt(c[0]), tokens_in: 1, tokens_out: 1 };
    let ix = p.ix_reveal(&copier.pubkey(), &request, stolen);
    p.env.expect_err(&[ix], &[&copier], VerityError::CommitmentMismatch).await;
}

#[tokio::test]
async fn reveal_before_its_window() {
    let mut p = Protocol::standard().await;
    let (_r, request, c) = p.assigned().await;
    p.commit(&request, c[0], 0, TEXT).await;
    p.commit(&request, c[1], 0, TEXT).await;
    let ix = p.ix_reveal_text(&request, c[0], 0, TEXT, (1, 1));
    let a = p.operators[c[0]].authority.insecure_clone();
    p.env.expect_err(&[ix], &[&a], VerityError::RevealWindowNotOpen).await;
    assert_eq!(p.request(&request).await.status, RequestStatus::Committing);
}

#[tokio::test]
async fn reveal_after_its_window() {
    let mut p = Protocol::standard().await;
    let (_r, request, c) = p.assigned().await;
    for &op in &c {
        p.commit(&request, op, 0, TEXT).await;
    }
    let r = p.request(&request).await;
    p.env.warp_to(r.committee.reveal_deadline).await;
    p.reveal(&request, c[0], 0, TEXT, (1, 1)).await; // the deadline slot itself is inside the window
    p.env.warp_to(r.committee.reveal_deadline + 1).await;
    let ix = p.ix_reveal_text(&request, c[1], 0, TEXT, (1, 1));
    let a = p.operators[c[1]].authority.insecure_clone();
    p.env.expect_err(&[ix], &[&a], VerityError::RevealWindowClosed).await;
}

#[tokio::test]
async fn reveal_twice_without_commit_or_with_bad_counts() {
    let mut p = Protocol::standard().await;
    let (_r, request, c) = p.assigned().await;
    p.commit(&request, c[0], 0, TEXT).await;
    p.commit(&request, c[1], 0, TEXT).await;
    let r = p.request(&request).await;
    p.env.warp_to(r.committee.commit_deadline + 1).await;
    let a2 = p.operators[c[2]].authority.insecure_clone();
    let never = p.ix_reveal_text(&request, c[2], 0, TEXT, (1, 1));
    p.env.expect_err(&[never], &[&a2], VerityError::NotCommitted).await;
    let a0 = p.operators[c[0]].authority.insecure_clone();
    let too_many = p.ix_reveal_text(&request, c[0], 0, TEXT, (1, r.max_tokens + 1));
    p.env.expect_err(&[too_many], &[&a0], VerityError::InvalidTokenCount).await;
    p.reveal(&request, c[0], 0, TEXT, (1, r.max_tokens)).await;
    let twice = p.ix_reveal_text(&request, c[0], 0, TEXT, (1, 1));
    p.env.expect_err(&[twice], &[&a0], VerityError::AlreadyRevealed).await;
}

#[tokio::test]
async fn assign_crank_rules() {
    let mut p = Protocol::standard().await;
    let (_r, request) = p.submitted().await;
    let assign = p.ix_assign(&request);
    // No slot after the submit slot in SlotHashes yet.
    p.env.expect_err(std::slice::from_ref(&assign), &[], VerityError::SlotHashNotYetAvailable).await;
    let fake = verity_tests::attack::swap_account(
        assign.clone(),
        &solana_sdk_ids::sysvar::slot_hashes::ID,
        &solana_sdk_ids::sysvar::clock::ID,
    );
    p.make_seed_available().await;
    p.env.expect_err(&[fake], &[], VerityError::InvalidSlotHashes).await;
    p.env.ok(std::slice::from_ref(&assign), &[]).await;
    p.env.expect_err(&[assign], &[], VerityError::RequestNotPending).await;

    // Past the assign window a pending request can no longer be assigned (only expired).
    let (_r2, late) = {
        let req = p.requester(10 * verity_tests::SOL).await;
        let k = p.submit(&req, 0, verity_tests::submit_args(2, "x", 1, 1_000)).await;
        (req, k)
    };
    let r = p.request(&late).await;
    p.env.warp_to(r.submit_slot + p.params.assign_window + 1).await;
    let assign = p.ix_assign(&late);
    p.env.expect_err(&[assign], &[], VerityError::AssignWindowClosed).await;

    // The last slot of the window still assigns.
    let req = p.requester(10 * verity_tests::SOL).await;
    let edge = p.submit(&req, 0, verity_tests::submit_args(3, "y", 1, 1_000)).await;
    let r = p.request(&edge).await;
    p.make_seed_available().await;
    p.env.warp_to(r.submit_slot + p.params.assign_window).await;
    let assign = p.ix_assign(&edge);
    p.env.ok(&[assign], &[]).await;
}
