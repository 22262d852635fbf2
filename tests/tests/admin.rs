//! Config and model administration: parameter validation, authority/owner checks, and that a request keeps the
//! model terms it was submitted under.
use {
    verity::{ConfigParams, ModelParams, VerityError},
    verity_tests::{default_model_params, default_params, pda, submit_args, Protocol, Signer, SOL},
};

#[tokio::test]
async fn initialize_config_validates_params_and_runs_once() {
    let mut p = Protocol::bare(default_params()).await;
    let auth = p.authority.insecure_clone();
    let cases: [(ConfigParams, VerityError); 5] = [
        (ConfigParams { protocol_fee_bps: 5_001, ..default_params() }, VerityError::InvalidBps),
        (ConfigParams { slash_bps: 10_001, ..default_params() }, VerityError::InvalidBps),
        (ConfigParams { committee_size: 0, ..default_params() }, VerityError::InvalidCommitteeSize),
        (
            ConfigParams { committee_size: verity::MAX_COMMITTEE_SIZE + 1, ..default_params() },
            VerityError::InvalidCommitteeSize,
        ),
        (ConfigParams { min_stake: 0, ..default_params() }, VerityError::InvalidWindow),
    ];
    for (params, err) in cases {
        let init = p.ix_initialize_config(params);
        p.env.expect_err(&[init], &[&auth], err).await;
    }
    assert!(!p.env.exists(&pda::config()).await);

    let init = p.ix_initialize_config(default_params());
    p.env.ok(std::slice::from_ref(&init), &[&auth]).await;
    let c = p.config().await;
    assert_eq!(
        (c.authority, c.stake_mint, c.treasury, c.treasury_stake),
        (auth.pubkey(), p.stake_mint, p.treasury, p.treasury_stake)
    );
    assert_eq!((c.params, c.paused, c.model_count, c.stake_vault), (default_params(), false, 0, pda::stake_vault()));
    let vault = p.env.get_account(&pda::stake_vault()).await.expect("vault exists");
    assert_eq!(vault.owner, anchor_spl::token::ID, "the vault is a real SPL token account");
    let again = p.env.expect_fail(&[init], &[&auth]).await;
    // The system program refuses to create the existing PDA again: AccountAlreadyInUse (0).
    assert_eq!(again.custom_code(), Some(0), "{:?}", again.err);
    assert_eq!(p.config().await.params, default_params());
}

#[tokio::test]
async fn treasury_stake_account_must_hold_the_stake_mint() {
    let mut p = Protocol::bare(default_params()).await;
    let auth = p.authority.insecure_clone();
    let other_mint = p.env.create_mint(&auth.pubkey(), 6).await;
    p.treasury_stake = p.env.create_token_account(&other_mint, &p.treasury).await;
    let init = p.ix_initialize_config(default_params());
    p.env.expect_err(&[init], &[&auth], VerityError::InvalidTreasuryStakeAccount).await;
}

#[tokio::test]
async fn update_config_is_for_the_authority_only() {
    let mut p = Protocol::new(default_params()).await;
    let auth = p.authority.insecure_clone();
    let intruder = p.env.funded_keypair(SOL).await;
    let changed = ConfigParams { committee_size: 5, protocol_fee_bps: 100, ..default_params() };
    let upd = p.ix_update_config(&intruder.pubkey(), &p.treasury, &p.treasury_stake, changed);
    p.env.expect_err(&[upd], &[&intruder], VerityError::Unauthorized).await;
    let bad = ConfigParams { slash_treasury_bps: 10_001, ..default_params() };
    let upd = p.ix_update_config(&auth.pubkey(), &p.treasury, &p.treasury_stake, bad);
    p.env.expect_err(&[upd], &[&auth], VerityError::InvalidBps).await;
    assert_eq!(p.config().await.params, default_params());
    let upd = p.ix_update_config(&auth.pubkey(), &p.treasury, &p.treasury_stake, changed);
    p.env.ok(&[upd], &[&auth]).await;
    assert_eq!(p.config().await.params, changed);
}

#[tokio::test]
async fn register_model_validates_its_params() {
    let mut p = Protocol::new(default_params()).await;
    let owner = p.env.funded_keypair(SOL).await;
    let cases: [(ModelParams, VerityError); 6] = [
        (ModelParams { name: String::new(), ..default_model_params() }, VerityError::InvalidModelName),
        (ModelParams { name: "n".repeat(33), ..default_model_params() }, VerityError::InvalidModelName),
        (ModelParams { max_input_bytes: 0, ..default_model_params() }, VerityError::InvalidModelLimits),
        (
            ModelParams { max_input_bytes: verity::MAX_LONG_PROMPT_BYTES + 1, ..default_model_params() },
            VerityError::InvalidModelLimits,
        ),
        (
            ModelParams { max_output_tokens: verity::MAX_OUTPUT_TOKENS + 1, ..default_model_params() },
            VerityError::InvalidModelLimits,
        ),
        (ModelParams { royalty_bps: 5_001, ..default_model_params() }, VerityError::InvalidBps),
    ];
    let auth = p.authority.insecure_clone();
    for (params, err) in cases {
        let reg = p.ix_register_model(&owner.pubkey(), 7, params);
        p.env.expect_err(&[reg], &[&owner, &auth], err).await;
    }
    let i = p.add_model(default_model_params()).await;
    let m: verity::Model = p.env.account(&p.models[i].key).await;
    let want = default_model_params();
    assert_eq!(
        (m.owner, m.index, m.active, m.name.as_str()),
        (p.models[i].owner.pubkey(), 0, true, want.name.as_str())
    );
    assert_eq!(
        (m.profile_hash, m.price_per_token, m.royalty_bps),
        (want.profile_hash, want.price_per_token, want.royalty_bps)
    );
    let j = p.add_model(default_model_params()).await;
    let m2: verity::Model = p.env.account(&p.models[j].key).await;
    assert_eq!((m2.index, p.config().await.model_count), (1, 2), "each model gets the next bitmap index");
}

#[tokio::test]
async fn update_model_is_owner_only_and_does_not_touch_submitted_requests() {
    let mut p = Protocol::standard().await;
    let (_q, request) = p.submitted().await;
    let owner = p.models[0].owner.insecure_clone();
    let dearer = ModelParams { price_per_token: 5_000, royalty_bps: 2_000, ..default_model_params() };
    let intruder = p.env.funded_keypair(SOL).await;
    let upd = p.ix_update_model(&intruder.pubkey(), &p.models[0].key, dearer.clone());
    p.env.expect_err(&[upd], &[&intruder], VerityError::Unauthorized).await;
    let upd = p.ix_update_model(&owner.pubkey(), &p.models[0].key, dearer);
    p.env.ok(&[upd], &[&owner]).await;
    let m: verity::Model = p.env.account(&p.models[0].key).await;
    assert_eq!((m.price_per_token, m.royalty_bps), (5_000, 2_000));
    let r = p.request(&request).await;
    assert_eq!((r.price_per_token, r.royalty_bps), (1_000, 1_000), "request keeps its submit-time terms");
    // New requests pay the new price.
    let req = p.requester(10 * SOL).await;
    let cheap = p.ix_submit(&req.pubkey(), &p.models[0].key, submit_args(9, "hi", 10, 10 * 1_000));
    p.env.expect_err(&[cheap], &[&req], VerityError::FeeTooLow).await;
}

#[tokio::test]
async fn deactivated_model_cannot_be_updated() {
    let mut p = Protocol::standard().await;
    let owner = p.models[0].owner.insecure_clone();
    let off = p.ix_deactivate_model(&owner.pubkey(), &p.models[0].key);
    p.env.ok(&[off], &[&owner]).await;
    let upd = p.ix_update_model(&owner.pubkey(), &p.models[0].key, default_model_params());
    p.env.expect_err(&[upd], &[&owner], VerityError::ModelInactive).await;
}
