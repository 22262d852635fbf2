//! Security class "missing signer": every instruction that needs a signature is sent once with that account's
//! signature dropped (→ Anchor `AccountNotSigner` 3010, raised by the `Signer<'info>` field) and then signed
//! (→ succeeds), so the signature is the only thing that stood in the way. Plus "wrong signer": a valid
//! signature by someone else (→ `Unauthorized` 6000 from the `has_one` constraints).
use {
    anchor_lang::error::ErrorCode as Anchor,
    verity::VerityError,
    verity_tests::{attack::strip_signer, default_model_params, pda, submit_args, Keypair, Protocol, Signer, SOL},
};

const TEXT: &str = "An answer everyone agrees on.";

/// Sends `ix` without `signer`'s signature (expects 3010), then with it (expects success).
async fn needs_signature(p: &mut Protocol, ix: solana_instruction::Instruction, signer: &Keypair) {
    let unsigned = strip_signer(ix.clone(), &signer.pubkey());
    p.env.expect_err(&[unsigned], &[], Anchor::AccountNotSigner).await;
    p.env.ok(&[ix], &[signer]).await;
}

/// Two required signers: each one missing is refused (the other signing); both sign: accepted.
async fn needs_both_signatures(p: &mut Protocol, ix: solana_instruction::Instruction, a: &Keypair, b: &Keypair) {
    let without_a = strip_signer(ix.clone(), &a.pubkey());
    p.env.expect_err(&[without_a], &[b], Anchor::AccountNotSigner).await;
    let without_b = strip_signer(ix.clone(), &b.pubkey());
    p.env.expect_err(&[without_b], &[a], Anchor::AccountNotSigner).await;
    p.env.ok(&[ix], &[a, b]).await;
}

#[tokio::test]
async fn every_signed_instruction_refuses_a_missing_signature() {
    let mut p = Protocol::standard().await;
    p.activate_registry().await; // operators' stake in force before the first request
    let auth = p.authority.insecure_clone();

    // Config authority.
    let ix = p.ix_update_config(&auth.pubkey(), &p.treasury, &p.treasury_stake, p.params);
    needs_signature(&mut p, ix, &auth).await;
    let ix = p.ix_set_paused(&auth.pubkey(), false);
    needs_signature(&mut p, ix, &auth).await;

    // Model owner.
    let owner = p.env.funded_keypair(SOL).await;
    let ix = p.ix_register_model(&owner.pubkey(), 777, default_model_params());
    needs_both_signatures(&mut p, ix, &owner, &auth).await;
    let ix = p.ix_update_model(&owner.pubkey(), &pda::model(777), default_model_params());
    needs_signature(&mut p, ix, &owner).await;

    // Operator authority, through its whole staking life.
    let op = p.env.funded_keypair(SOL).await;
    let tokens = p.env.create_token_account(&p.stake_mint, &op.pubkey()).await;
    let mint_authority = p.mint_authority.insecure_clone();
    p.env.mint_to(&p.stake_mint, &mint_authority, &tokens, 10_000).await;
    let ix = p.ix_register_operator(&op.pubkey(), 1);
    needs_signature(&mut p, ix, &op).await;
    let ix = p.ix_stake(&op.pubkey(), &tokens, 10_000);
    needs_signature(&mut p, ix, &op).await;
    let ix = p.ix_set_served_models(&op.pubkey(), 0b11);
    needs_signature(&mut p, ix, &op).await;
    let ix = p.ix_request_unstake(&op.pubkey(), 10_000);
    needs_signature(&mut p, ix, &op).await;
    p.env.warp_by(p.params.unbonding_slots + 1).await;
    let ix = p.ix_withdraw_stake(&op.pubkey(), &tokens);
    needs_signature(&mut p, ix, &op).await;
    let ix = p.ix_deregister_operator(&op.pubkey());
    needs_signature(&mut p, ix, &op).await;
    assert_eq!(p.env.token_balance(&tokens).await, 10_000, "stake came back in full");

    // Requester and committee members, through a request's whole life.
    let requester = p.requester(10 * SOL).await;
    let ix = p.ix_submit(&requester.pubkey(), &p.models[0].key, submit_args(1, "Hi", 20, 1_000_000));
    needs_signature(&mut p, ix, &requester).await;
    let request = pda::request(&requester.pubkey(), 1);
    let c = p.assign(&request).await;
    for &m in &c {
        let ix = p.ix_commit_text(&request, m, 0, TEXT);
        let key = p.operators[m].authority.insecure_clone();
        needs_signature(&mut p, ix, &key).await;
    }
    for &m in &c {
        let ix = p.ix_reveal_text(&request, m, 0, TEXT, (1, 1));
        let key = p.operators[m].authority.insecure_clone();
        needs_signature(&mut p, ix, &key).await;
    }
    p.finalize(&request).await;
    let writer = p.operators[c[0]].authority.insecure_clone();
    let ix = p.ix_write_output(&writer.pubkey(), &request, 0, TEXT.len() as u32, TEXT.as_bytes());
    needs_signature(&mut p, ix, &writer).await;
    assert!(p.env.account::<verity::Output>(&pda::output(&request)).await.complete);
    p.pass_dispute_window(&request).await;
    for &m in &c {
        let k = p.operators[m].authority.pubkey();
        let claim = p.ix_claim(&request, &k);
        p.env.ok(&[claim], &[]).await;
    }
    let ix = p.ix_close(&requester.pubkey(), &request);
    needs_signature(&mut p, ix, &requester).await;
    assert!(!p.env.exists(&request).await);

    let model_owner = p.models[0].owner.insecure_clone();
    let ix = p.ix_deactivate_model(&model_owner.pubkey(), &p.models[0].key);
    needs_signature(&mut p, ix, &model_owner).await;
}

#[tokio::test]
async fn a_signature_by_someone_else_is_unauthorized() {
    let mut p = Protocol::standard().await;
    p.activate_registry().await; // operators' stake in force before the first request
    let intruder = p.env.funded_keypair(SOL).await;
    let i = intruder.pubkey();
    // Each builder names the victim's account (config, model, operator PDA) but the intruder as signer; the
    // `has_one = authority|owner @ Unauthorized` constraint compares the stored key with the signer.
    let victim_op = p.operators[0].authority.pubkey();
    let mut ixs = vec![
        p.ix_set_paused(&i, true),
        p.ix_update_model(&i, &p.models[0].key, default_model_params()),
        p.ix_deactivate_model(&i, &p.models[0].key),
    ];
    // Operator instructions: the intruder signs for the victim's Operator PDA.
    let swap = |ix: solana_instruction::Instruction| {
        verity_tests::attack::swap_account(ix, &pda::operator(&i), &pda::operator(&victim_op))
    };
    let intruder_tokens = p.env.create_token_account(&p.stake_mint, &i).await;
    ixs.push(swap(p.ix_request_unstake(&i, 1)));
    ixs.push(swap(p.ix_withdraw_stake(&i, &intruder_tokens)));
    ixs.push(swap(p.ix_set_served_models(&i, 0)));
    ixs.push(swap(p.ix_deregister_operator(&i)));
    for ix in ixs {
        p.env.expect_err(&[ix], &[&intruder], VerityError::Unauthorized).await;
    }
    // The requester's close: the intruder cannot close (and collect the rent of) someone else's request.
    let (_q, request) = p.submitted().await;
    p.env.warp_by(p.params.assign_window + 1).await;
    let r = p.request(&request).await;
    p.env.ok(&[p.ix_expire(&request, &r.requester)], &[]).await;
    let close = p.ix_close(&i, &request);
    p.env.expect_err(&[close], &[&intruder], VerityError::Unauthorized).await;
    assert!(p.env.exists(&request).await);
    assert_eq!(p.operator(0).await.stake, 100_000);
    assert!(!p.config().await.paused);
}
