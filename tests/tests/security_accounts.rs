//! Security classes about the accounts an instruction is handed: wrong account owner, type cosplay, arbitrary
//! CPI target (a fake token / system program) and duplicate mutable accounts. Each case names the check that
//! stops it and asserts that check's specific error code; where possible the same instruction with the honest
//! account then succeeds, so the check was the only thing in the way.
use {
    anchor_lang::error::ErrorCode as Anchor,
    anchor_spl::token::spl_token,
    solana_instruction::AccountMeta,
    verity::VerityError,
    verity_tests::{
        attack::{swap_account, swap_at},
        pda, submit_args, Protocol, Pubkey, Signer, SOL,
    },
};

const TEXT: &str = "An answer everyone agrees on.";

/// Operator 0 unbonds `amount` and waits out the unbonding period.
async fn unbonded(p: &mut Protocol, amount: u64) {
    let a = p.operators[0].authority.insecure_clone();
    p.env.ok(&[p.ix_request_unstake(&a.pubkey(), amount)], &[&a]).await;
    p.env.warp_by(p.params.unbonding_slots + 1).await;
}

#[tokio::test]
async fn accounts_owned_by_another_program_are_refused() {
    let mut p = Protocol::standard().await;
    p.activate_registry().await; // operators' stake in force before the first request
    let a = p.operators[0].authority.insecure_clone();
    let attacker_program = Pubkey::new_unique();
    // A byte-for-byte SPL token account of the stake mint, but owned by the attacker's program (which could
    // report any balance). `withdraw_stake.destination` is not pinned to an address, only to the mint: the
    // owner check of `Account<TokenAccount>` (owner == SPL Token) is what stops it → AccountOwnedByWrongProgram.
    let fake = Pubkey::new_unique();
    p.env.plant_copy(&p.operators[0].tokens, &fake, &attacker_program).await;
    unbonded(&mut p, 40_000).await;
    let withdraw = p.ix_withdraw_stake(&a.pubkey(), &fake);
    p.env.expect_err(&[withdraw], &[&a], Anchor::AccountOwnedByWrongProgram).await;
    let tokens = p.operators[0].tokens;
    let before = p.env.token_balance(&tokens).await;
    p.env.ok(&[p.ix_withdraw_stake(&a.pubkey(), &tokens)], &[&a]).await;
    assert_eq!(p.env.token_balance(&tokens).await, before + 40_000);

    // Same for `stake.source` (an account the attacker's program "owns" with a large fake balance).
    let stake = swap_account(p.ix_stake(&a.pubkey(), &tokens, 1), &tokens, &fake);
    p.env.expect_err(&[stake], &[&a], Anchor::AccountOwnedByWrongProgram).await;

    // A forged Config naming the attacker as authority, owned by the attacker's program at another address.
    // `Account<Config>` checks the owner (== Verity) before the seeds constraint runs.
    let attacker = p.env.funded_keypair(SOL).await;
    let mut forged = p.config().await;
    forged.authority = attacker.pubkey();
    let forged_key = Pubkey::new_unique();
    p.env
        .plant_anchor(&forged_key, &attacker_program, &forged, 8 + <verity::Config as anchor_lang::Space>::INIT_SPACE)
        .await;
    let pause = swap_account(p.ix_set_paused(&attacker.pubkey(), true), &pda::config(), &forged_key);
    p.env.expect_err(&[pause], &[&attacker], Anchor::AccountOwnedByWrongProgram).await;
    assert!(!p.config().await.paused);
    p.assert_vault_matches_books().await;
}

#[tokio::test]
async fn one_verity_account_type_cannot_pose_as_another() {
    let mut p = Protocol::standard().await;
    p.activate_registry().await; // operators' stake in force before the first request
    let (requester, request) = p.submitted().await;
    let q = requester.pubkey();
    // Request and Operator both start with a pubkey (requester / authority) right after the discriminator, so
    // the requester's own Request would satisfy `has_one = authority` as an "Operator". The 8-byte account
    // discriminator check of `Account<Operator>` rejects it → AccountDiscriminatorMismatch.
    let unstake = swap_account(p.ix_request_unstake(&q, 1), &pda::operator(&q), &request);
    p.env.expect_err(&[unstake], &[&requester], Anchor::AccountDiscriminatorMismatch).await;
    // The Output account posing as its Request in commit_result.
    let member = p.operators[0].authority.insecure_clone();
    let commit = swap_account(p.ix_commit(&member.pubkey(), &request, [1; 32]), &request, &pda::output(&request));
    p.env.expect_err(&[commit], &[&member], Anchor::AccountDiscriminatorMismatch).await;
    // The OperatorRegistry posing as the Config (both singletons owned by Verity).
    let auth = p.authority.insecure_clone();
    let pause = swap_account(p.ix_set_paused(&auth.pubkey(), true), &pda::config(), &pda::registry());
    p.env.expect_err(&[pause], &[&auth], Anchor::AccountDiscriminatorMismatch).await;
    // A Model posing as the Request in assign_committee.
    let assign = swap_account(p.ix_assign(&request), &request, &p.models[0].key);
    p.env.expect_err(&[assign], &[], Anchor::AccountDiscriminatorMismatch).await;
    // An Operator posing as a Request in finalize's remaining accounts is caught too (its PDA is not the
    // member's Operator PDA) — here the committee's Request passed where an Operator is expected.
    p.make_seed_available().await;
    p.env.ok(&[p.ix_assign(&request)], &[]).await;
    let r = p.request(&request).await;
    let mut extra: Vec<AccountMeta> =
        r.committee.members.iter().map(|m| AccountMeta::new(pda::operator(&m.operator), false)).collect();
    extra[1] = AccountMeta::new(request, false);
    let fin = p.ix_finalize_with(&request, &r, extra);
    p.pass_reveal_deadline(&request).await;
    p.env.expect_err(&[fin], &[], VerityError::WrongOperatorAccounts).await;
}

#[tokio::test]
async fn a_fake_token_or_system_program_is_never_invoked() {
    let mut p = Protocol::standard().await;
    p.add_operator(100_000).await; // a committee of 3 remains drawable while operator 0 unbonds
    p.activate_registry().await;
    let a = p.operators[0].authority.insecure_clone();
    let tokens = p.operators[0].tokens;
    // Executable programs that are not SPL Token: Token-2022 (real, different) and Verity itself; and a plain
    // account. `Program<'info, Token>` compares the key with SPL Token's id → InvalidProgramId.
    let fakes = [anchor_spl::token_2022::ID, verity::ID, Pubkey::new_unique()];
    for fake in fakes {
        let stake = swap_account(p.ix_stake(&a.pubkey(), &tokens, 5), &spl_token::ID, &fake);
        p.env.expect_err(&[stake], &[&a], Anchor::InvalidProgramId).await;
    }
    unbonded(&mut p, 10_000).await;
    for fake in fakes {
        let w = swap_account(p.ix_withdraw_stake(&a.pubkey(), &tokens), &spl_token::ID, &fake);
        p.env.expect_err(&[w], &[&a], Anchor::InvalidProgramId).await;
    }
    // Finalize CPIs into the token program to move slashed stake out of the vault.
    let (requester, request, c) = p.assigned().await;
    for &m in &c[..2] {
        p.commit(&request, m, 0, TEXT).await;
    }
    p.pass_reveal_deadline(&request).await;
    let r = p.request(&request).await;
    for fake in fakes {
        let fin = swap_account(p.ix_finalize(&request, &r), &spl_token::ID, &fake);
        p.env.expect_err(&[fin], &[], Anchor::InvalidProgramId).await;
    }
    // submit_request CPIs into the system program to escrow the fee: a fake one would "accept" the transfer.
    for fake in fakes {
        let ix = p.ix_submit(&requester.pubkey(), &p.models[0].key, submit_args(9, "Hi", 20, 1_000_000));
        let ix = swap_account(ix, &anchor_lang::system_program::ID, &fake);
        p.env.expect_err(&[ix], &[&requester], Anchor::InvalidProgramId).await;
    }
    // With the real programs everything goes through and the books still match the vault.
    p.env.ok(&[p.ix_withdraw_stake(&a.pubkey(), &tokens)], &[&a]).await;
    p.finalize(&request).await;
    p.assert_vault_matches_books().await;
}

#[tokio::test]
async fn duplicate_mutable_accounts_are_refused() {
    let mut p = Protocol::standard().await;
    p.add_operator(100_000).await; // a committee of 3 remains drawable while operator 0 unbonds
    p.activate_registry().await;
    let a = p.operators[0].authority.insecure_clone();
    let vault = pda::stake_vault();
    // withdraw_stake with destination = the vault itself: SPL Token accepts a self-transfer, so without a check
    // the operator's unbonding would be zeroed while the tokens stay in the vault (vault > Σ books forever).
    // Anchor's duplicate-mutable-account check (two `mut Account<TokenAccount>` with one key) refuses it.
    unbonded(&mut p, 30_000).await;
    let w = p.ix_withdraw_stake(&a.pubkey(), &vault);
    p.env.expect_err(&[w], &[&a], Anchor::ConstraintDuplicateMutableAccount).await;
    assert_eq!(p.operator(0).await.unbonding, 30_000);
    // stake with source = the vault (a "stake" paid out of everyone's stake).
    let s = swap_account(p.ix_stake(&a.pubkey(), &p.operators[0].tokens, 1), &p.operators[0].tokens, &vault);
    p.env.expect_err(&[s], &[&a], Anchor::ConstraintDuplicateMutableAccount).await;
    p.assert_vault_matches_books().await;

    // finalize with the stake vault also passed as the treasury's stake account (index 8 of FinalizeRequest).
    let (_q, request, c) = p.assigned().await;
    for &m in &c {
        p.commit(&request, m, 0, if m == c[2] { "liar" } else { TEXT }).await;
    }
    for &m in &c {
        p.reveal(&request, m, 0, if m == c[2] { "liar" } else { TEXT }, (1, 1)).await;
    }
    let r = p.request(&request).await;
    let fin = swap_at(p.ix_finalize(&request, &r), 8, &vault);
    p.env.expect_err(&[fin], &[], Anchor::ConstraintDuplicateMutableAccount).await;
    // finalize with one member's Operator account twice (its books would be written twice, the last write
    // wins): the remaining accounts must be exactly the members' PDAs in order → WrongOperatorAccounts.
    let mut extra: Vec<AccountMeta> =
        r.committee.members.iter().map(|m| AccountMeta::new(pda::operator(&m.operator), false)).collect();
    extra[2] = extra[0].clone();
    let fin = p.ix_finalize_with(&request, &r, extra);
    p.env.expect_err(&[fin], &[], VerityError::WrongOperatorAccounts).await;
    p.finalize(&request).await;
    p.assert_vault_matches_books().await;
}
