//! Self-tests of the harness: the builtin runs in the bank, helpers move real SPL tokens, warps move the clock.
use verity_tests::{Env, Keypair, Signer, SOL};

#[tokio::test]
async fn token_helpers_move_real_tokens() {
    let mut env = Env::new().await;
    let authority = Keypair::new();
    let mint = env.create_mint(&authority.pubkey(), 6).await;
    let owner = Keypair::new().pubkey();
    let acct = env.create_token_account(&mint, &owner).await;
    assert_eq!(env.token_balance(&acct).await, 0);
    env.mint_to(&mint, &authority, &acct, 1_234).await;
    assert_eq!(env.token_balance(&acct).await, 1_234);
}

#[tokio::test]
async fn fund_and_lamports_sum() {
    let mut env = Env::new().await;
    let a = env.funded_keypair(2 * SOL).await;
    let b = env.funded_keypair(3 * SOL).await;
    assert_eq!(env.lamports(&a.pubkey()).await, 2 * SOL);
    assert_eq!(env.lamports_sum(&[a.pubkey(), b.pubkey()]).await, u128::from(5 * SOL));
    assert_eq!(env.lamports(&Keypair::new().pubkey()).await, 0);
}

#[tokio::test]
async fn warp_moves_the_clock() {
    let mut env = Env::new().await;
    let start = env.slot().await;
    env.warp_to(start + 50).await;
    assert_eq!(env.slot().await, start + 50);
    env.warp_by(10).await;
    assert_eq!(env.slot().await, start + 60);
}

#[tokio::test]
async fn repeated_identical_instructions_are_not_deduplicated() {
    let mut env = Env::new().await;
    let to = Keypair::new().pubkey();
    env.fund(&to, SOL).await;
    env.fund(&to, SOL).await;
    assert_eq!(env.lamports(&to).await, 2 * SOL);
}
