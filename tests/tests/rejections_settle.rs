//! Rejections after the reveal phase: finalize (twice, too early, wrong accounts), output chunks (range, hash,
//! writer), claims (locked, twice, nothing owed) and close — each with the program's specific error.
use {
    solana_instruction::AccountMeta,
    verity::{RequestStatus, VerityError},
    verity_tests::{pda, Keypair, Protocol, Pubkey, Signer},
};

const GOOD: &str = "The capital of France is Paris.";
const BAD: &str = "The capital of France is Lyon.";

/// Finalized request: c[0], c[1] revealed GOOD (majority), c[2] revealed BAD (minority).
async fn finalized(p: &mut Protocol) -> (Keypair, Pubkey, Vec<usize>) {
    let (req, request, c) = p.assigned().await;
    for (n, &op) in c.iter().enumerate() {
        p.commit(&request, op, 0, if n == 2 { BAD } else { GOOD }).await;
    }
    for (n, &op) in c.iter().enumerate() {
        p.reveal(&request, op, 0, if n == 2 { BAD } else { GOOD }, (3, 7)).await;
    }
    p.finalize(&request).await;
    (req, request, c)
}

#[tokio::test]
async fn finalize_twice() {
    let mut p = Protocol::standard().await;
    let (_q, request, _c) = finalized(&mut p).await;
    let r = p.request(&request).await;
    let treasury = p.env.lamports(&p.treasury).await;
    let again = p.ix_finalize(&request, &r);
    p.env.expect_err(&[again], &[], VerityError::AlreadyFinalized).await;
    assert_eq!(p.env.lamports(&p.treasury).await, treasury, "no second payout");
}

#[tokio::test]
async fn finalize_before_assignment_or_during_commit() {
    let mut p = Protocol::standard().await;
    let (_q, request) = p.submitted().await;
    let r = p.request(&request).await;
    let fin = p.ix_finalize(&request, &r);
    p.env.expect_err(&[fin], &[], VerityError::RequestNotAssigned).await;
    p.assign(&request).await;
    let r = p.request(&request).await;
    let fin = p.ix_finalize(&request, &r);
    p.env.expect_err(&[fin], &[], VerityError::FinalizeTooEarly).await;
}

#[tokio::test]
async fn finalize_checks_the_operator_accounts() {
    let mut p = Protocol::standard().await;
    let (_q, request, c) = p.assigned().await;
    for &op in &c {
        p.commit(&request, op, 0, GOOD).await;
    }
    for &op in &c {
        p.reveal(&request, op, 0, GOOD, (1, 1)).await;
    }
    let r = p.request(&request).await;
    let metas: Vec<AccountMeta> =
        r.committee.members.iter().map(|m| AccountMeta::new(pda::operator(&m.operator), false)).collect();
    let missing = p.ix_finalize_with(&request, &r, metas[..2].to_vec());
    p.env.expect_err(&[missing], &[], VerityError::WrongOperatorAccounts).await;
    let swapped = p.ix_finalize_with(&request, &r, vec![metas[1].clone(), metas[0].clone(), metas[2].clone()]);
    p.env.expect_err(&[swapped], &[], VerityError::WrongOperatorAccounts).await;
    let mut readonly = metas.clone();
    readonly[2].is_writable = false;
    let ro = p.ix_finalize_with(&request, &r, readonly);
    p.env.expect_err(&[ro], &[], VerityError::WrongOperatorAccounts).await;

    let mut wrong_treasury = p.ix_finalize(&request, &r);
    wrong_treasury.accounts[5].pubkey = Pubkey::new_unique();
    p.env.expect_err(&[wrong_treasury], &[], VerityError::AccountMismatch).await;
    let mut wrong_requester = p.ix_finalize(&request, &r);
    wrong_requester.accounts[3].pubkey = Pubkey::new_unique();
    p.env.expect_err(&[wrong_requester], &[], VerityError::AccountMismatch).await;
    let mut wrong_owner = p.ix_finalize(&request, &r);
    wrong_owner.accounts[4].pubkey = Pubkey::new_unique();
    p.env.expect_err(&[wrong_owner], &[], VerityError::AccountMismatch).await;
    let mut wrong_stake_account = p.ix_finalize(&request, &r);
    wrong_stake_account.accounts[8].pubkey = p.operators[0].tokens;
    p.env.expect_err(&[wrong_stake_account], &[], VerityError::InvalidStakeTokenAccount).await;

    assert_eq!(p.request(&request).await.status, RequestStatus::Revealing);
    p.finalize(&request).await;
}

#[tokio::test]
async fn output_before_finalize() {
    let mut p = Protocol::standard().await;
    let (_q, request, c) = p.assigned().await;
    let writer = p.operators[c[0]].authority.insecure_clone();
    let early = p.ix_write_output(&writer.pubkey(), &request, 0, 3, b"abc");
    p.env.expect_err(&[early], &[&writer], VerityError::RequestNotFinalized).await;
}

#[tokio::test]
async fn output_chunks_are_checked() {
    let mut p = Protocol::standard().await;
    let (_q, request, c) = finalized(&mut p).await;
    let bytes = GOOD.as_bytes();
    let total = bytes.len() as u32;
    let writer = p.operators[c[0]].authority.insecure_clone();
    let minority = p.operators[c[2]].authority.insecure_clone();
    let w =
        |p: &Protocol, k: &Keypair, off: u32, tot: u32, d: &[u8]| p.ix_write_output(&k.pubkey(), &request, off, tot, d);

    p.env.expect_err(&[w(&p, &minority, 0, total, bytes)], &[&minority], VerityError::NotMajorityMember).await;
    let cap = verity_tests::OUTPUT_CAPACITY;
    p.env.expect_err(&[w(&p, &writer, 0, cap + 1, bytes)], &[&writer], VerityError::OutputTooLarge).await;
    p.env.ok(&[w(&p, &writer, 0, total, &bytes[..10])], &[&writer]).await;
    // A gap after the written bytes, or a chunk past total_len, is out of range.
    p.env.expect_err(&[w(&p, &writer, 11, total, &bytes[11..])], &[&writer], VerityError::OutputChunkOutOfRange).await;
    p.env.expect_err(&[w(&p, &writer, 10, 12, &bytes[10..])], &[&writer], VerityError::OutputChunkOutOfRange).await;
    // The last chunk must make the bytes hash to the winning hash (the minority's answer does not).
    let lyon = BAD.as_bytes();
    p.env
        .expect_err(&[w(&p, &writer, 10, lyon.len() as u32, &lyon[10..])], &[&writer], VerityError::OutputHashMismatch)
        .await;
    let o: verity::Output = p.env.account(&pda::output(&request)).await;
    assert!(!o.complete && o.data == bytes[..10], "rejected writes leave the output untouched");
    p.env.ok(&[w(&p, &writer, 10, total, &bytes[10..])], &[&writer]).await;
    p.env.expect_err(&[w(&p, &writer, 0, total, bytes)], &[&writer], VerityError::OutputAlreadyComplete).await;
    let o: verity::Output = p.env.account(&pda::output(&request)).await;
    assert!(o.complete && o.data == bytes);
}

#[tokio::test]
async fn claim_rules() {
    let mut p = Protocol::standard().await;
    let (_q, request, c) = finalized(&mut p).await;
    let member = p.operators[c[0]].authority.pubkey();
    let claim = p.ix_claim(&request, &member);
    p.env.expect_err(std::slice::from_ref(&claim), &[], VerityError::RewardsLocked).await;
    p.pass_dispute_window(&request).await;
    let before = p.env.lamports(&member).await;
    p.env.ok(std::slice::from_ref(&claim), &[]).await;
    let reward = p.request(&request).await.committee.members[0].reward;
    assert!(reward > 0);
    assert_eq!(p.env.lamports(&member).await, before + reward);
    p.env.expect_err(&[claim], &[], VerityError::AlreadyClaimed).await;
    let minority = p.operators[c[2]].authority.pubkey();
    let nothing = p.ix_claim(&request, &minority);
    p.env.expect_err(&[nothing], &[], VerityError::NothingToClaim).await;
    let stranger = p.ix_claim(&request, &Pubkey::new_unique());
    p.env.expect_err(&[stranger], &[], VerityError::NotCommitteeMember).await;
}

#[tokio::test]
async fn close_while_pending() {
    let mut p = Protocol::standard().await;
    let (req, request) = p.submitted().await;
    let close = p.ix_close(&req.pubkey(), &request);
    p.env.expect_err(&[close], &[&req], VerityError::RequestNotClosable).await;
}

#[tokio::test]
async fn close_rules() {
    let mut p = Protocol::standard().await;
    let (req, request, c) = finalized(&mut p).await;
    let close = p.ix_close(&req.pubkey(), &request);
    p.env.expect_err(std::slice::from_ref(&close), &[&req], VerityError::RewardsLocked).await;
    p.pass_dispute_window(&request).await;
    p.env.expect_err(std::slice::from_ref(&close), &[&req], VerityError::RewardsUnclaimed).await;
    let intruder = p.env.funded_keypair(verity_tests::SOL).await;
    let mut stolen = close.clone();
    stolen.accounts[0].pubkey = intruder.pubkey();
    for &op in &c[..2] {
        let k = p.operators[op].authority.pubkey();
        let claim = p.ix_claim(&request, &k);
        p.env.ok(&[claim], &[]).await;
    }
    p.env.expect_err(&[stolen], &[&intruder], VerityError::Unauthorized).await;
    p.env.ok(&[close], &[&req]).await;
    assert!(!p.env.exists(&request).await);
}
