//! Staking and the draw's eligibility: unbonding, withdraw after the release slot, min stake, served models,
//! deregistration — every rule with its specific error.
use verity::VerityError;
use verity_tests::{default_params, Protocol, Signer};

const STAKE: u64 = 100_000;

fn auth(p: &Protocol, i: usize) -> verity_tests::Keypair {
    p.operators[i].authority.insecure_clone()
}

#[tokio::test]
async fn withdraw_only_at_or_after_the_release_slot() {
    let mut p = Protocol::standard().await;
    let a = auth(&p, 0);
    let dest = p.operators[0].tokens;
    let unstake = p.ix_request_unstake(&a.pubkey(), 30_000);
    let now = p.env.slot().await;
    p.env.ok(&[unstake], &[&a]).await;
    let o = p.operator(0).await;
    assert_eq!((o.stake, o.unbonding, o.release_slot), (STAKE - 30_000, 30_000, now + p.params.unbonding_slots));

    let w = p.ix_withdraw_stake(&a.pubkey(), &dest);
    p.env.expect_err(std::slice::from_ref(&w), &[&a], VerityError::UnbondingNotElapsed).await;
    p.env.warp_to(o.release_slot - 1).await;
    p.env.expect_err(std::slice::from_ref(&w), &[&a], VerityError::UnbondingNotElapsed).await;
    p.env.warp_to(o.release_slot).await;
    let (vault0, dest0) = (p.vault_balance().await, p.env.token_balance(&dest).await);
    p.env.ok(std::slice::from_ref(&w), &[&a]).await;
    assert_eq!(p.vault_balance().await, vault0 - 30_000);
    assert_eq!(p.env.token_balance(&dest).await, dest0 + 30_000);
    let o = p.operator(0).await;
    assert_eq!((o.stake, o.unbonding), (STAKE - 30_000, 0));
    // Nothing left to withdraw.
    p.env.expect_err(&[w], &[&a], VerityError::NothingUnbonding).await;
    p.assert_vault_matches_books().await;
}

#[tokio::test]
async fn withdraw_is_refused_with_open_assignments() {
    let mut p = Protocol::standard().await;
    let (_r, _request, c) = p.assigned().await;
    let a = auth(&p, c[0]);
    let unstake = p.ix_request_unstake(&a.pubkey(), 10);
    p.env.ok(&[unstake], &[&a]).await;
    let o = p.operator(c[0]).await;
    p.env.warp_to(o.release_slot).await;
    let w = p.ix_withdraw_stake(&a.pubkey(), &p.operators[c[0]].tokens);
    p.env.expect_err(&[w], &[&a], VerityError::OpenAssignments).await;
}

#[tokio::test]
async fn unstake_amount_rules() {
    let mut p = Protocol::standard().await;
    let a = auth(&p, 0);
    let zero = p.ix_request_unstake(&a.pubkey(), 0);
    p.env.expect_err(&[zero], &[&a], VerityError::ZeroAmount).await;
    let too_much = p.ix_request_unstake(&a.pubkey(), STAKE + 1);
    p.env.expect_err(&[too_much], &[&a], VerityError::InsufficientStake).await;
    let stake0 = p.ix_stake(&a.pubkey(), &p.operators[0].tokens, 0);
    p.env.expect_err(&[stake0], &[&a], VerityError::ZeroAmount).await;
    assert_eq!(p.operator(0).await.stake, STAKE);
}

#[tokio::test]
async fn unbonding_operator_is_not_drawn() {
    let mut p = Protocol::standard().await;
    p.add_operator(STAKE).await; // operator 3
    let a = auth(&p, 1);
    let unstake = p.ix_request_unstake(&a.pubkey(), 1);
    p.env.ok(&[unstake], &[&a]).await;
    p.activate_registry().await; // registry changes become drawable assign_window + 1 slots later
                                 // 3 eligible operators for k = 3: the committee must be exactly them.
    let (_r, _request, mut c) = p.assigned().await;
    c.sort();
    assert_eq!(c, vec![0, 2, 3]);
}

#[tokio::test]
async fn operator_below_min_stake_is_never_drawn() {
    let params = default_params();
    let mut p = Protocol::with_operators(params, 3, params.min_stake).await; // exactly min: eligible
    p.add_operator(params.min_stake - 1).await; // operator 3: below min
    p.activate_registry().await; // registry changes become drawable assign_window + 1 slots later
    for nonce in 1..=3u64 {
        let req = p.requester(10 * verity_tests::SOL).await;
        let request = p.submit(&req, 0, verity_tests::submit_args(nonce, "hi", 1, 1_000)).await;
        let mut c = p.assign(&request).await;
        c.sort();
        assert_eq!(c, vec![0, 1, 2], "operator below min stake drawn");
    }
}

#[tokio::test]
async fn not_enough_eligible_operators_fails_the_draw() {
    let mut p = Protocol::standard().await;
    // Operator 0 stops serving model 0: only 2 eligible for k = 3.
    let a = auth(&p, 0);
    let unserve = p.ix_set_served_models(&a.pubkey(), 0);
    p.env.ok(&[unserve], &[&a]).await;
    assert_eq!(p.operator(0).await.served_models, 0);
    p.activate_registry().await; // registry changes become drawable assign_window + 1 slots later
    let (_req, request) = p.submitted().await;
    p.make_seed_available().await;
    let assign = p.ix_assign(&request);
    p.env.expect_err(&[assign], &[], VerityError::NotEnoughOperators).await;
}

#[tokio::test]
async fn served_models_must_name_registered_models() {
    let mut p = Protocol::standard().await; // one model: index 0
    let a = auth(&p, 0);
    let bad = p.ix_set_served_models(&a.pubkey(), 0b10);
    p.env.expect_err(&[bad], &[&a], VerityError::UnknownModelIndex).await;
    let fresh = p.env.funded_keypair(verity_tests::SOL).await;
    let reg = p.ix_register_operator(&fresh.pubkey(), 1 << 5);
    p.env.expect_err(&[reg], &[&fresh], VerityError::UnknownModelIndex).await;
}

#[tokio::test]
async fn stake_from_a_foreign_mint_is_rejected() {
    let mut p = Protocol::standard().await;
    let a = auth(&p, 0);
    let other_authority = verity_tests::Keypair::new();
    let other_mint = p.env.create_mint(&other_authority.pubkey(), 6).await;
    let foreign = p.env.create_token_account(&other_mint, &a.pubkey()).await;
    p.env.mint_to(&other_mint, &other_authority, &foreign, 5_000).await;
    let stake = p.ix_stake(&a.pubkey(), &foreign, 5_000);
    p.env.expect_err(&[stake], &[&a], VerityError::InvalidStakeTokenAccount).await;
    assert_eq!(p.env.token_balance(&foreign).await, 5_000);
}

#[tokio::test]
async fn deregister_requires_no_assignments_and_no_stake() {
    let mut p = Protocol::standard().await;
    let (_r, request, c) = p.assigned().await;
    let a = auth(&p, c[0]);
    let dereg = p.ix_deregister_operator(&a.pubkey());
    p.env.expect_err(std::slice::from_ref(&dereg), &[&a], VerityError::OpenAssignments).await;

    // Settle the request (everyone honest), then unbond and withdraw everything.
    for &op in &c {
        p.commit(&request, op, 0, "ok").await;
    }
    for &op in &c {
        p.reveal(&request, op, 0, "ok", (1, 1)).await;
    }
    p.finalize(&request).await;
    p.env.expect_err(std::slice::from_ref(&dereg), &[&a], VerityError::StakeRemaining).await;
    let unstake = p.ix_request_unstake(&a.pubkey(), STAKE);
    p.env.ok(&[unstake], &[&a]).await;
    p.env.expect_err(std::slice::from_ref(&dereg), &[&a], VerityError::StakeRemaining).await;
    let o = p.operator(c[0]).await;
    p.env.warp_to(o.release_slot).await;
    let w = p.ix_withdraw_stake(&a.pubkey(), &p.operators[c[0]].tokens);
    p.env.ok(&[w], &[&a]).await;

    let pda = p.operators[c[0]].pda;
    let rent = p.env.lamports(&pda).await;
    let before = p.env.lamports(&a.pubkey()).await;
    p.env.ok(&[dereg], &[&a]).await;
    assert!(!p.env.exists(&pda).await, "operator account closed");
    assert_eq!(p.env.lamports(&a.pubkey()).await, before + rent, "rent returned to the authority");
    let reg = p.registry().await;
    assert_eq!(reg.entries.len(), 2);
    assert!(reg.entries.iter().all(|e| e.authority != a.pubkey()));
    p.assert_vault_matches_books().await;
}

#[tokio::test]
async fn staking_instructions_need_the_operator_authority() {
    let mut p = Protocol::standard().await;
    let intruder = p.env.funded_keypair(verity_tests::SOL).await;
    let victim = p.operators[0].authority.pubkey();
    // Accounts name the victim's Operator PDA, but the intruder signs as authority.
    let mut unstake = p.ix_request_unstake(&victim, 10);
    unstake.accounts[0].pubkey = intruder.pubkey();
    p.env.expect_err(&[unstake], &[&intruder], VerityError::Unauthorized).await;
    let mut w = p.ix_withdraw_stake(&victim, &p.operators[0].tokens);
    w.accounts[0].pubkey = intruder.pubkey();
    p.env.expect_err(&[w], &[&intruder], VerityError::Unauthorized).await;
    assert_eq!(p.operator(0).await.stake, STAKE);
}
