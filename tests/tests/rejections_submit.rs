//! `submit_request` rejections, each with the program's own error: prompt size and form, max_tokens, fee,
//! output capacity, sampling range, inactive model, paused protocol — and the boundaries that must still pass.
use verity::VerityError;
use verity_tests::{default_model_params, pda, submit_args, Protocol, Signer, SOL};

/// A submit of `args` by a fresh requester; returns (instruction, requester).
async fn submit(
    p: &mut Protocol,
    args: verity::SubmitRequestArgs,
) -> (solana_instruction::Instruction, verity_tests::Keypair) {
    let req = p.requester(10 * SOL).await;
    let ix = p.ix_submit(&req.pubkey(), &p.models[0].key, args);
    (ix, req)
}

#[tokio::test]
async fn oversized_prompt() {
    let mut p = Protocol::standard().await;
    let max = p.models[0].params.max_input_bytes as usize;
    let (ix, req) = submit(&mut p, submit_args(1, &"x".repeat(max + 1), 10, SOL)).await;
    p.env.expect_err(&[ix], &[&req], VerityError::PromptTooLarge).await;
    assert!(!p.env.exists(&pda::request(&req.pubkey(), 1)).await);
    let (ix, req) = submit(&mut p, submit_args(1, &"x".repeat(max), 10, SOL)).await;
    p.env.ok(&[ix], &[&req]).await;
}

#[tokio::test]
async fn max_tokens_above_the_model_limit() {
    let mut p = Protocol::standard().await;
    let limit = p.models[0].params.max_output_tokens;
    let (ix, req) = submit(&mut p, submit_args(1, "hi", limit + 1, SOL)).await;
    p.env.expect_err(&[ix], &[&req], VerityError::MaxTokensAboveModelLimit).await;
    let (ix, req) = submit(&mut p, submit_args(1, "hi", 0, SOL)).await;
    p.env.expect_err(&[ix], &[&req], VerityError::MaxTokensZero).await;
    let (ix, req) = submit(&mut p, submit_args(1, "hi", limit, SOL)).await;
    p.env.ok(&[ix], &[&req]).await;
}

#[tokio::test]
async fn fee_too_low() {
    let mut p = Protocol::standard().await;
    let price = p.models[0].params.price_per_token;
    let (ix, req) = submit(&mut p, submit_args(1, "hi", 20, price * 20 - 1)).await;
    let before = p.env.lamports(&req.pubkey()).await;
    p.env.expect_err(&[ix], &[&req], VerityError::FeeTooLow).await;
    assert_eq!(p.env.lamports(&req.pubkey()).await, before, "a rejected submit moves no lamports");
    let (ix, req) = submit(&mut p, submit_args(1, "hi", 20, price * 20)).await;
    p.env.ok(&[ix], &[&req]).await;
}

#[tokio::test]
async fn inactive_model() {
    let mut p = Protocol::standard().await;
    let owner = p.models[0].owner.insecure_clone();
    let off = p.ix_deactivate_model(&owner.pubkey(), &p.models[0].key);
    p.env.ok(&[off], &[&owner]).await;
    let m: verity::Model = p.env.account(&p.models[0].key).await;
    assert!(!m.active);
    let (ix, req) = submit(&mut p, submit_args(1, "hi", 10, SOL)).await;
    p.env.expect_err(&[ix], &[&req], VerityError::ModelInactive).await;
}

#[tokio::test]
async fn only_the_model_owner_deactivates() {
    let mut p = Protocol::standard().await;
    let intruder = p.env.funded_keypair(SOL).await;
    let off = p.ix_deactivate_model(&intruder.pubkey(), &p.models[0].key);
    p.env.expect_err(&[off], &[&intruder], VerityError::Unauthorized).await;
    let m: verity::Model = p.env.account(&p.models[0].key).await;
    assert!(m.active);
}

#[tokio::test]
async fn paused_protocol_refuses_new_business() {
    let mut p = Protocol::standard().await;
    let auth = p.authority.insecure_clone();
    let pause = p.ix_set_paused(&auth.pubkey(), true);
    p.env.ok(&[pause], &[&auth]).await;
    assert!(p.config().await.paused);

    let (ix, req) = submit(&mut p, submit_args(1, "hi", 10, SOL)).await;
    p.env.expect_err(std::slice::from_ref(&ix), &[&req], VerityError::ProtocolPaused).await;
    let owner = p.env.funded_keypair(SOL).await;
    let reg = p.ix_register_model(&owner.pubkey(), 999, default_model_params());
    p.env.expect_err(&[reg], &[&owner, &auth], VerityError::ProtocolPaused).await;
    let op = p.env.funded_keypair(SOL).await;
    let reg_op = p.ix_register_operator(&op.pubkey(), 1);
    p.env.expect_err(&[reg_op], &[&op], VerityError::ProtocolPaused).await;
    let a = p.operators[0].authority.insecure_clone();
    let stake = p.ix_stake(&a.pubkey(), &p.operators[0].tokens, 10);
    p.env.expect_err(&[stake], &[&a], VerityError::ProtocolPaused).await;

    let unpause = p.ix_set_paused(&auth.pubkey(), false);
    p.env.ok(&[unpause], &[&auth]).await;
    p.env.ok(&[ix], &[&req]).await;
}

#[tokio::test]
async fn only_the_authority_pauses() {
    let mut p = Protocol::standard().await;
    let intruder = p.env.funded_keypair(SOL).await;
    let pause = p.ix_set_paused(&intruder.pubkey(), true);
    p.env.expect_err(&[pause], &[&intruder], VerityError::Unauthorized).await;
    assert!(!p.config().await.paused);
}

#[tokio::test]
async fn prompt_form_and_output_capacity() {
    let mut p = Protocol::standard().await;
    let mut empty = submit_args(1, "", 10, SOL);
    let (ix, req) = submit(&mut p, empty.clone()).await;
    p.env.expect_err(&[ix], &[&req], VerityError::PromptMissing).await;
    empty.prompt_hash = Some([7; 32]);
    let (ix, req) = submit(&mut p, empty.clone()).await;
    p.env.expect_err(&[ix], &[&req], VerityError::PromptMissing).await;

    let mut both = submit_args(1, "inline", 10, SOL);
    both.prompt_hash = Some([7; 32]);
    both.prompt_uri = "ipfs://x".into();
    let (ix, req) = submit(&mut p, both).await;
    p.env.expect_err(&[ix], &[&req], VerityError::PromptAmbiguous).await;

    let mut long_uri = empty.clone();
    long_uri.prompt_uri = "u".repeat(verity::MAX_URI_LEN + 1);
    let (ix, req) = submit(&mut p, long_uri).await;
    p.env.expect_err(&[ix], &[&req], VerityError::UriTooLong).await;

    for cap in [0, verity::MAX_OUTPUT_BYTES + 1] {
        let mut a = submit_args(1, "hi", 10, SOL);
        a.output_capacity = cap;
        let (ix, req) = submit(&mut p, a).await;
        p.env.expect_err(&[ix], &[&req], VerityError::InvalidOutputCapacity).await;
    }

    // By hash + URI is accepted and stores the given hash.
    let mut by_uri = empty;
    by_uri.prompt_uri = "ipfs://bafy".into();
    let (ix, req) = submit(&mut p, by_uri).await;
    p.env.ok(&[ix], &[&req]).await;
    let r = p.request(&pda::request(&req.pubkey(), 1)).await;
    assert_eq!((r.prompt_hash, r.prompt_uri.as_str(), r.prompt.len()), ([7; 32], "ipfs://bafy", 0));
}

#[tokio::test]
async fn same_nonce_twice_is_refused() {
    let mut p = Protocol::standard().await;
    let (req, request) = p.submitted().await;
    let r = p.request(&request).await;
    // A second submit with nonce 1 would re-init the existing PDA: the system program refuses (account in use).
    let again = p.ix_submit(&req.pubkey(), &p.models[0].key, submit_args(1, "Say hello.", 20, 1_000_000));
    let e = p.env.expect_fail(&[again], &[&req]).await;
    assert_eq!(e.custom_code(), Some(0), "system program AccountAlreadyInUse expected: {:?}", e.err);
    assert_eq!(p.request(&request).await.fee, r.fee);
}

#[tokio::test]
async fn largest_inline_prompt_fits_one_transaction_with_two_signers() {
    let mut p = Protocol::new(verity_tests::default_params()).await;
    let max = verity::MAX_PROMPT_BYTES;
    p.add_model(verity::ModelParams { max_input_bytes: max, ..default_model_params() }).await;
    let req = p.requester(10 * SOL).await;
    let prompt = "p".repeat(max as usize);
    // Exactly what a client sends: the submit alone, fee payer + requester signatures.
    let submit = p.ix_submit(&req.pubkey(), &p.models[0].key, submit_args(1, &prompt, 10, SOL));
    if let Err(e) = p.env.send_exact(&[submit], &[&req]).await {
        panic!("a {max}-byte prompt must fit one transaction: {:?}", e.err);
    }
    let r = p.request(&pda::request(&req.pubkey(), 1)).await;
    assert_eq!(r.prompt.len(), max as usize);
}

#[tokio::test]
async fn sampling_out_of_range() {
    let mut p = Protocol::standard().await;
    let with = |t: u16, top_p: u16| {
        let mut a = submit_args(1, "hi", 10, SOL);
        a.sampling = verity::Sampling { temperature_milli: t, top_p_milli: top_p, seed: 9 };
        a
    };
    for (t, top_p) in [(2_001, 1_000), (700, 0), (700, 1_001), (0, 0), (u16::MAX, 500)] {
        let (ix, req) = submit(&mut p, with(t, top_p)).await;
        let before = p.env.lamports(&req.pubkey()).await;
        p.env.expect_err(&[ix], &[&req], VerityError::InvalidSampling).await;
        assert_eq!(p.env.lamports(&req.pubkey()).await, before, "a rejected submit moves no lamports");
        assert!(!p.env.exists(&pda::request(&req.pubkey(), 1)).await);
    }
    // The boundaries pass, and the request keeps exactly what was submitted.
    for (t, top_p) in [(2_000, 1), (0, 1_000), (1, 1_000)] {
        let (ix, req) = submit(&mut p, with(t, top_p)).await;
        p.env.ok(&[ix], &[&req]).await;
        let r: verity::Request = p.env.account(&pda::request(&req.pubkey(), 1)).await;
        assert_eq!(r.sampling, verity::Sampling { temperature_milli: t, top_p_milli: top_p, seed: 9 });
    }
}
