//! Authority misconfiguration that would brick settlement: with the stake vault itself as the treasury's stake
//! account, every `finalize_request` passes the vault twice as a mutable account and is refused, so no request
//! could settle and no member withdraw. `update_config` must refuse it (tests/BUGS.md #4; it used to check only
//! the mint) with InvalidTreasuryStakeAccount.
use {
    anchor_lang::error::ErrorCode as Anchor,
    verity::VerityError,
    verity_tests::{pda, Protocol, Signer},
};

const TEXT: &str = "An answer everyone agrees on.";

#[tokio::test]
async fn the_vault_cannot_become_the_treasury_stake_account() {
    let mut p = Protocol::standard().await;
    p.activate_registry().await; // operators' stake in force before the first request
    let (_q, request, c) = p.assigned().await;
    for &m in &c {
        p.commit(&request, m, 0, TEXT).await;
    }
    for &m in &c {
        p.reveal(&request, m, 0, TEXT, (1, 1)).await;
    }
    let auth = p.authority.insecure_clone();
    let vault = pda::stake_vault();
    let upd = p.ix_update_config(&auth.pubkey(), &p.treasury, &vault, p.params);
    if p.env.send(&[upd], &[&auth]).await.is_ok() {
        // Show the consequence before failing: finalize is refused for good.
        p.treasury_stake = vault;
        let r = p.request(&request).await;
        let fin = p.ix_finalize(&request, &r);
        p.env.expect_err(&[fin], &[], Anchor::ConstraintDuplicateMutableAccount).await;
        panic!("update_config accepted the vault as treasury_stake: every finalize now fails (2040), escrow stuck");
    }
    let upd = p.ix_update_config(&auth.pubkey(), &p.treasury, &vault, p.params);
    p.env.expect_err(&[upd], &[&auth], VerityError::InvalidTreasuryStakeAccount).await;
    p.finalize(&request).await;
}
