//! Canaries for the native-runtime glue: a CPI that is silently skipped, or a sysvar the bridge cannot answer,
//! makes these fail (see tests/src/native.rs).
use {
    anchor_lang::Space,
    verity_tests::{default_model_params, default_params, pda, Protocol, Signer},
};

#[tokio::test]
async fn stake_cpi_really_moves_tokens_into_the_vault() {
    let mut p = Protocol::new(default_params()).await;
    p.add_model(default_model_params()).await;
    let i = p.add_operator(0).await;
    let (auth, src) = (p.operators[i].authority.insecure_clone(), p.operators[i].tokens);
    assert_eq!(p.vault_balance().await, 0);
    let before = p.env.token_balance(&src).await;

    let stake = p.ix_stake(&auth.pubkey(), &src, 7_000);
    p.env.ok(&[stake], &[&auth]).await;

    assert_eq!(p.vault_balance().await, 7_000, "the token CPI did not move tokens into the vault");
    assert_eq!(p.env.token_balance(&src).await, before - 7_000);
    assert_eq!(p.operator(i).await.stake, 7_000);
}

#[tokio::test]
async fn clock_sysvar_is_served_by_the_bridge() {
    let mut p = Protocol::new(default_params()).await;
    p.env.warp_to(777).await;
    let auth = p.env.funded_keypair(verity_tests::SOL).await;
    let reg = p.ix_register_operator(&auth.pubkey(), 0);
    p.env.ok(&[reg], &[&auth]).await;
    let op: verity::Operator = p.env.account(&pda::operator(&auth.pubkey())).await;
    assert_eq!(op.registered_slot, 777, "Clock::get() inside the program must see the bank's slot");
}

#[tokio::test]
async fn rent_sysvar_is_served_by_the_bridge() {
    let mut p = Protocol::new(default_params()).await;
    let space = 8 + verity::Config::INIT_SPACE;
    let want = p.env.rent_exempt(space).await;
    assert!(want > 0);
    let acct = p.env.get_account(&pda::config()).await.expect("config exists");
    assert_eq!(acct.data.len(), space);
    assert_eq!(acct.lamports, want, "accounts created with Rent::get() must be exactly rent-exempt");
}
