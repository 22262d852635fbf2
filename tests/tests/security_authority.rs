//! What the config authority and strangers cannot do (tests/BUGS.md #8): a stranger cannot fill the 64-entry
//! model table (registration needs the authority's approval), and the authority cannot change the terms of a
//! request in flight — slash shares, windows and min stake are snapshotted at submit; `assign_window` (the
//! registry's activation delay) is fixed; every bps and window is bounded; the vault never becomes the treasury
//! stake account, at `initialize_config` either. Each case asserts the program's error or the state.
use {
    verity::{state::ConfigParams, Outcome, RequestStatus, VerityError, MAX_WINDOW_SLOTS},
    verity_tests::{default_model_params, default_params, pda, Protocol, Signer, SOL},
};

const ANSWER: &str = "The answer is 42.";

/// A stranger registering models (each taking one of the 64 bitmap indices for good) used to lock every later
/// legitimate model out. Without the authority's signature the registration is refused and no index is used.
#[tokio::test]
async fn strangers_cannot_spend_model_indices() {
    let mut p = Protocol::new(default_params()).await;
    let stranger = p.env.funded_keypair(10 * SOL).await;
    for id in 0..3u64 {
        // The stranger names itself as the approving authority.
        let mut reg = p.ix_register_model(&stranger.pubkey(), 5_000 + id, default_model_params());
        reg.accounts[1].pubkey = stranger.pubkey();
        p.env.expect_err(&[reg], &[&stranger], VerityError::ModelNotApproved).await;
    }
    assert_eq!(p.config().await.model_count, 0, "no index was spent");
    let i = p.add_model(default_model_params()).await;
    let m: verity::Model = p.env.account(&p.models[i].key).await;
    assert_eq!((m.index, p.config().await.model_count), (0, 1));
}

/// The authority raises slash shares to 100 %, shortens every window and raises the min stake while a request
/// is in flight: the request settles under the terms it was submitted with.
#[tokio::test]
async fn update_config_never_changes_a_request_in_flight() {
    let mut p = Protocol::standard().await;
    let auth = p.authority.insecure_clone();
    let (_q, request, c) = p.assigned().await;
    let harsh = ConfigParams {
        slash_bps: 10_000,
        slash_treasury_bps: 10_000,
        commit_window: 1,
        reveal_window: 1,
        dispute_window: 1,
        min_stake: 1_000_000,
        ..p.params
    };
    p.env.ok(&[p.ix_update_config(&auth.pubkey(), &p.treasury, &p.treasury_stake, harsh)], &[&auth]).await;
    let r = p.request(&request).await;
    assert_eq!(r.terms, p.params.terms(), "the request keeps its submit-time terms");
    // Two members answer, one stays silent; the old windows still apply (commit at +5 is accepted).
    p.env.warp_by(5).await;
    for &op in &c[..2] {
        p.commit(&request, op, 0, ANSWER).await;
    }
    let r = p.request(&request).await;
    p.env.warp_to(r.committee.commit_deadline + 1).await;
    for &op in &c[..2] {
        p.reveal(&request, op, 0, ANSWER, (4, 9)).await;
    }
    p.pass_reveal_deadline(&request).await;
    let ts0 = p.env.token_balance(&p.treasury_stake.clone()).await;
    p.finalize(&request).await;
    let r = p.request(&request).await;
    assert_eq!(r.status, RequestStatus::Finalized);
    let silent = &r.committee.members[2];
    assert_eq!((silent.outcome, silent.slashed), (Outcome::NoCommit, 10_000), "10 % of 100_000, not 100 %");
    let ts = p.treasury_stake;
    assert_eq!(p.env.token_balance(&ts).await, ts0 + 5_000, "half of the slash to the treasury, not all");
    // The old dispute window (10 slots) still locks the rewards.
    let claim = p.ix_claim(&request, &r.committee.members[0].operator);
    p.env.warp_to(r.finalized_slot + 5).await;
    p.env.expect_err(std::slice::from_ref(&claim), &[], VerityError::RewardsLocked).await;
    p.pass_dispute_window(&request).await;
    p.env.ok(&[claim], &[]).await;
}

/// Parameter bounds and the fixed activation delay.
#[tokio::test]
async fn config_bounds_and_the_fixed_assign_window() {
    let mut p = Protocol::new(default_params()).await;
    let auth = p.authority.insecure_clone();
    let longer = ConfigParams { assign_window: p.params.assign_window + 1, ..p.params };
    let upd = p.ix_update_config(&auth.pubkey(), &p.treasury, &p.treasury_stake, longer);
    p.env.expect_err(&[upd], &[&auth], VerityError::ParameterImmutable).await;
    for bad in [
        ConfigParams { dispute_window: MAX_WINDOW_SLOTS + 1, ..p.params },
        ConfigParams { unbonding_slots: MAX_WINDOW_SLOTS + 1, ..p.params },
        ConfigParams { reveal_window: 0, ..p.params },
    ] {
        let upd = p.ix_update_config(&auth.pubkey(), &p.treasury, &p.treasury_stake, bad);
        p.env.expect_err(&[upd], &[&auth], VerityError::InvalidWindow).await;
    }
    assert_eq!(p.config().await.params, default_params());
}

/// tests/BUGS.md #4 covered `update_config` only: `initialize_config` with the vault (created in the same
/// instruction) as the treasury stake account is refused too.
#[tokio::test]
async fn initialize_config_refuses_the_vault_as_treasury_stake() {
    let mut p = Protocol::bare(default_params()).await;
    let auth = p.authority.insecure_clone();
    p.treasury_stake = pda::stake_vault();
    let init = p.ix_initialize_config(default_params());
    p.env.expect_err(&[init], &[&auth], VerityError::InvalidTreasuryStakeAccount).await;
}
