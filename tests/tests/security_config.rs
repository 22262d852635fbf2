//! Authority misconfiguration that would brick settlement: `update_config` accepts the stake vault itself as
//! the treasury's stake account (it only checks the mint). Every `finalize_request` then passes the vault twice
//! as a mutable account and is refused, so no request can settle and no member can withdraw. This test asserts
//! the update is refused; it currently FAILS (tests/BUGS.md #4), so it is ignored until the program checks it.
use {
    anchor_lang::error::ErrorCode as Anchor,
    verity::VerityError,
    verity_tests::{pda, Protocol, Signer},
};

const TEXT: &str = "An answer everyone agrees on.";

#[tokio::test]
#[ignore = "BUGS.md #4: update_config accepts the stake vault as treasury_stake, which blocks every finalize"]
async fn the_vault_cannot_become_the_treasury_stake_account() {
    let mut p = Protocol::standard().await;
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
