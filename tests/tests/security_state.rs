//! Security classes about account lifetimes and identities: re-initialization, PDA sharing / non-canonical
//! bumps, closed-account revival and copied commitments. Each case asserts the specific error of the check
//! that stops it and that the victim's state is unchanged.
use {
    anchor_lang::error::ErrorCode as Anchor,
    solana_instruction::{error::InstructionError, AccountMeta},
    solana_transaction_error::TransactionError,
    verity::{MemberState, Outcome, RequestStatus, RevealArgs, VerityError},
    verity_tests::{
        attack::{non_canonical_pda, swap_account},
        default_model_params,
        fixture::ix,
        pda, salt, submit_args, Keypair, Protocol, Pubkey, Signer, SOL,
    },
};

const TEXT: &str = "An answer everyone agrees on.";

/// The system program's `AccountAlreadyInUse` (custom 0): what Anchor's `init` hits on an existing account.
fn assert_already_in_use(e: &verity_tests::TxErr) {
    assert_eq!(e.custom_code(), Some(0), "expected AccountAlreadyInUse, got {:?}", e.err);
    assert!(e.logs.iter().any(|l| l.contains("already in use")), "logs: {:?}", e.logs);
}

/// A finalized request where every member agreed on TEXT. Returns (requester, request, committee).
async fn finalized(p: &mut Protocol, nonce: u64) -> (Keypair, Pubkey, Vec<usize>) {
    let requester = p.requester(10 * SOL).await;
    let request = p.submit(&requester, 0, submit_args(nonce, "Hi", 20, 1_000_000)).await;
    let c = p.assign(&request).await;
    for &m in &c {
        p.commit(&request, m, 0, TEXT).await;
    }
    for &m in &c {
        p.reveal(&request, m, 0, TEXT, (1, 1)).await;
    }
    p.finalize(&request).await;
    (requester, request, c)
}

#[tokio::test]
async fn initialized_accounts_cannot_be_initialized_again() {
    let mut p = Protocol::standard().await;
    p.activate_registry().await; // operators' stake in force before the first request
                                 // An attacker re-runs initialize_config with its own mint and treasury to become the authority.
    let attacker = p.env.funded_keypair(10 * SOL).await;
    let evil_mint = p.env.create_mint(&attacker.pubkey(), 6).await;
    let evil_treasury_stake = p.env.create_token_account(&evil_mint, &attacker.pubkey()).await;
    let init = ix(
        verity::accounts::InitializeConfig {
            authority: attacker.pubkey(),
            config: pda::config(),
            registry: pda::registry(),
            stake_mint: evil_mint,
            stake_vault: pda::stake_vault(),
            treasury: attacker.pubkey(),
            treasury_stake: evil_treasury_stake,
            token_program: anchor_spl::token::ID,
            system_program: anchor_lang::system_program::ID,
        },
        verity::instruction::InitializeConfig { params: p.params },
    );
    assert_already_in_use(&p.env.expect_fail(&[init], &[&attacker]).await);
    let c = p.config().await;
    assert_eq!((c.authority, c.stake_mint, c.treasury), (p.authority.pubkey(), p.stake_mint, p.treasury));
    assert_eq!(p.registry().await.entries.len(), 3, "registry not reset");

    // register_operator again (would reset stake and counters to zero while the vault keeps the tokens).
    let a = p.operators[0].authority.insecure_clone();
    let again = p.ix_register_operator(&a.pubkey(), 1);
    assert_already_in_use(&p.env.expect_fail(&[again], &[&a]).await);
    assert_eq!(p.operator(0).await.stake, 100_000);

    // register_model with a taken id by someone else (would steal the model's royalties).
    let thief = p.env.funded_keypair(SOL).await;
    let steal = p.ix_register_model(&thief.pubkey(), p.models[0].id, default_model_params());
    let auth = p.authority.insecure_clone();
    assert_already_in_use(&p.env.expect_fail(&[steal], &[&thief, &auth]).await);
    let m: verity::Model = p.env.account(&p.models[0].key).await;
    assert_eq!(m.owner, p.models[0].owner.pubkey());

    // submit with the nonce of an in-flight request (would wipe its committee and commitments).
    let requester = p.requester(10 * SOL).await;
    let request = p.submit(&requester, 0, submit_args(1, "Hi", 20, 1_000_000)).await;
    let c = p.assign(&request).await;
    p.commit(&request, c[0], 0, TEXT).await;
    let resubmit = p.ix_submit(&requester.pubkey(), &p.models[0].key, submit_args(1, "Other", 20, 20_000));
    assert_already_in_use(&p.env.expect_fail(&[resubmit], &[&requester]).await);
    let r = p.request(&request).await;
    assert_eq!((r.status, r.committee.committed_count, r.fee), (RequestStatus::Committing, 1, 1_000_000));
    assert_eq!(r.prompt, b"Hi");
}

#[tokio::test]
async fn pdas_are_bound_to_their_owner_and_canonical_bump() {
    let mut p = Protocol::standard().await;
    p.activate_registry().await; // operators' stake in force before the first request
                                 // Every stored bump is the canonical one (so `bump = x.bump` re-derives exactly the canonical address).
    let c = p.config().await;
    assert_eq!(c.bump, Pubkey::find_program_address(&[b"config"], &verity::ID).1);
    assert_eq!(c.vault_bump, Pubkey::find_program_address(&[b"stake_vault"], &verity::ID).1);
    assert_eq!(p.registry().await.bump, Pubkey::find_program_address(&[b"registry"], &verity::ID).1);
    let m: verity::Model = p.env.account(&p.models[0].key).await;
    assert_eq!(m.bump, Pubkey::find_program_address(&[b"model", &m.model_id.to_le_bytes()], &verity::ID).1);
    let op0 = p.operators[0].authority.pubkey();
    assert_eq!(p.operator(0).await.bump, Pubkey::find_program_address(&[b"operator", op0.as_ref()], &verity::ID).1);

    let (qa, ra) = p.submitted().await;
    let (qb, rb) = p.submitted().await;
    let r = p.request(&ra).await;
    assert_eq!(
        r.bump,
        Pubkey::find_program_address(&[b"request", qa.pubkey().as_ref(), &1u64.to_le_bytes()], &verity::ID).1
    );
    assert_eq!(r.output_bump, Pubkey::find_program_address(&[b"output", ra.as_ref()], &verity::ID).1);

    // PDA sharing: B's Output passed with A's Request. close_request would pay B's output rent to A; the
    // `seeds = [OUTPUT_SEED, request.key()]` constraint ties each Output to one Request → ConstraintSeeds.
    p.env.warp_by(p.params.assign_window + 1).await;
    p.env.ok(&[p.ix_expire(&ra, &qa.pubkey()), p.ix_expire(&rb, &qb.pubkey())], &[]).await;
    let close = swap_account(p.ix_close(&qa.pubkey(), &ra), &pda::output(&ra), &pda::output(&rb));
    p.env.expect_err(&[close], &[&qa], Anchor::ConstraintSeeds).await;
    assert!(p.env.exists(&pda::output(&rb)).await);

    // Non-canonical bump: a Verity-owned Output at [OUTPUT_SEED, request, bump'] for bump' < canonical is a valid
    // program address. Even if such an account existed, the seeds check with the stored canonical bump rejects it.
    let (_qf, rf, c) = finalized(&mut p, 2).await;
    let (alt, bump) = non_canonical_pda(&[b"output", rf.as_ref()]);
    assert_ne!(bump, p.request(&rf).await.output_bump);
    p.env.plant_copy(&pda::output(&rf), &alt, &verity::ID).await;
    let writer = p.operators[c[0]].authority.insecure_clone();
    let w = swap_account(
        p.ix_write_output(&writer.pubkey(), &rf, 0, TEXT.len() as u32, TEXT.as_bytes()),
        &pda::output(&rf),
        &alt,
    );
    p.env.expect_err(&[w], &[&writer], Anchor::ConstraintSeeds).await;
    let w = p.ix_write_output(&writer.pubkey(), &rf, 0, TEXT.len() as u32, TEXT.as_bytes());
    p.env.ok(&[w], &[&writer]).await;

    // Same for an Operator account in finalize's remaining accounts (re-derived with find_program_address).
    let (_q, rq) = p.submitted().await;
    let cm = p.assign(&rq).await;
    let victim = p.operators[cm[0]].authority.pubkey();
    let (alt_op, _) = non_canonical_pda(&[b"operator", victim.as_ref()]);
    p.env.plant_copy(&pda::operator(&victim), &alt_op, &verity::ID).await;
    p.pass_reveal_deadline(&rq).await;
    let r = p.request(&rq).await;
    let mut extra: Vec<AccountMeta> =
        r.committee.members.iter().map(|m| AccountMeta::new(pda::operator(&m.operator), false)).collect();
    extra[0] = AccountMeta::new(alt_op, false);
    p.env.expect_err(&[p.ix_finalize_with(&rq, &r, extra)], &[], VerityError::WrongOperatorAccounts).await;
    p.finalize(&rq).await;
    assert_eq!(p.env.account::<verity::Operator>(&pda::operator(&victim)).await.missed, 1, "the real books were used");
}

/// Asserts `e` failed at instruction `index` (0 = the compute-budget instruction `Env::send` prepends).
fn assert_failed_at(e: &verity_tests::TxErr, index: u8, code: u32) {
    assert_eq!(e.err, TransactionError::InstructionError(index, InstructionError::Custom(code)), "logs: {:?}", e.logs);
}

#[tokio::test]
async fn closed_accounts_cannot_be_revived() {
    let mut p = Protocol::standard().await;
    p.activate_registry().await; // operators' stake in force before the first request
    let (requester, request, c) = finalized(&mut p, 1).await;
    p.pass_dispute_window(&request).await;
    for &m in &c[..2] {
        p.env.ok(&[p.ix_claim(&request, &p.operators[m].authority.pubkey())], &[]).await;
    }
    let last = p.operators[c[2]].authority.pubkey();
    let rent = p.env.lamports(&request).await - p.request(&request).await.committee.members[2].reward;
    // In one transaction: claim the last reward, close, refund the rent to the closed address ("revive" it)
    // and claim again. Anchor's close hands the account to the system program with no data, so the revived
    // address is a system account: `Account<Request>` refuses it → AccountOwnedByWrongProgram at ix 4.
    let revive = solana_system_interface::instruction::transfer(&p.env.payer(), &request, rent);
    let ixs = [
        p.ix_claim(&request, &last),
        p.ix_close(&requester.pubkey(), &request),
        revive.clone(),
        p.ix_claim(&request, &last),
    ];
    let e = p.env.expect_fail(&ixs, &[&requester]).await;
    assert_failed_at(&e, 4, Anchor::AccountOwnedByWrongProgram.into());
    // Across transactions: close, then revive, then try to claim or finalize it again.
    p.env.ok(&[p.ix_claim(&request, &last), p.ix_close(&requester.pubkey(), &request)], &[&requester]).await;
    p.env.ok(&[revive], &[]).await;
    let acct = p.env.get_account(&request).await.expect("revived with lamports");
    assert_eq!((acct.owner, acct.data.len()), (anchor_lang::system_program::ID, 0));
    p.env.expect_err(&[p.ix_claim(&request, &last)], &[], Anchor::AccountOwnedByWrongProgram).await;
    // Re-using the nonce creates a fresh request: none of the old committee's state comes back.
    let again = p.ix_submit(&requester.pubkey(), &p.models[0].key, submit_args(1, "Hi", 20, 1_000_000));
    p.env.ok(&[again], &[&requester]).await;
    let r = p.request(&request).await;
    assert_eq!(
        (r.status, r.committee.members.len(), r.rewards_total, r.rewards_claimed),
        (RequestStatus::Pending, 0, 0, 0)
    );
    p.env.expect_err(&[p.ix_claim(&request, &last)], &[], VerityError::RequestNotFinalized).await;

    // A deregistered Operator revived in the same transaction cannot be used as one.
    let op = p.env.funded_keypair(SOL).await;
    p.env.ok(&[p.ix_register_operator(&op.pubkey(), 1)], &[&op]).await;
    let op_pda = pda::operator(&op.pubkey());
    let rent = p.env.lamports(&op_pda).await;
    let ixs = [
        p.ix_deregister_operator(&op.pubkey()),
        solana_system_interface::instruction::transfer(&p.env.payer(), &op_pda, rent),
        p.ix_set_served_models(&op.pubkey(), 1),
    ];
    let e = p.env.expect_fail(&ixs, &[&op]).await;
    assert_failed_at(&e, 3, Anchor::AccountOwnedByWrongProgram.into());
}

#[tokio::test]
async fn a_copied_commitment_is_slashed_not_paid() {
    let mut p = Protocol::standard().await;
    p.activate_registry().await; // operators' stake in force before the first request
    let (_q, request) = p.submitted().await;
    let c = p.assign(&request).await;
    let (a, b) = (c[0], c[1]);
    let copier = p.operators[b].authority.insecure_clone();
    // B submits A's commitment bytes (it cannot know A's output before A reveals).
    p.commit(&request, a, 0, TEXT).await;
    let copied = p.request(&request).await.committee.members[0].commitment;
    p.env.ok(&[p.ix_commit(&copier.pubkey(), &request, copied)], &[&copier]).await;
    p.commit(&request, c[2], 0, TEXT).await;
    p.reveal(&request, a, 0, TEXT, (1, 1)).await;
    // A's opening is now public. B replays it, and also tries the right answer with its own salt: the
    // commitment binds the member's key (sha256(domain ‖ request ‖ operator ‖ hash ‖ salt)) → CommitmentMismatch.
    let replay = RevealArgs { output_hash: p.output_hash(0, TEXT), salt: salt(a), tokens_in: 1, tokens_out: 1 };
    let own = RevealArgs { salt: salt(b), ..replay };
    for args in [replay, own] {
        p.env
            .expect_err(&[p.ix_reveal(&copier.pubkey(), &request, args)], &[&copier], VerityError::CommitmentMismatch)
            .await;
    }
    p.reveal(&request, c[2], 0, TEXT, (1, 1)).await;
    p.pass_reveal_deadline(&request).await;
    let stake_b = p.operator(b).await.stake;
    p.finalize(&request).await;
    let r = p.request(&request).await;
    assert_eq!(r.committee.members[1].state, MemberState::Committed);
    assert_eq!((r.committee.members[1].outcome, r.committee.members[1].reward), (Outcome::NoReveal, 0));
    assert_eq!(p.operator(b).await.stake, stake_b - stake_b / 10, "the copier is slashed 10 %");
    assert_eq!((r.committee.members[0].outcome, r.committee.members[2].outcome), (Outcome::Agreed, Outcome::Agreed));

    // A commitment replayed from another request by the same operator does not open either (the request key
    // is inside it).
    let (_q2, request2) = p.submitted().await;
    let c2 = p.assign(&request2).await;
    let m = c2[0];
    let key = p.operators[m].authority.insecure_clone();
    let old = pda::commitment(&request, &key.pubkey(), &p.output_hash(0, TEXT), &salt(m));
    p.env.ok(&[p.ix_commit(&key.pubkey(), &request2, old)], &[&key]).await;
    for &o in &c2[1..] {
        p.commit(&request2, o, 0, TEXT).await;
    }
    let args = RevealArgs { output_hash: p.output_hash(0, TEXT), salt: salt(m), tokens_in: 1, tokens_out: 1 };
    p.env.expect_err(&[p.ix_reveal(&key.pubkey(), &request2, args)], &[&key], VerityError::CommitmentMismatch).await;
}
