//! Registry exhaustion: `register_operator` is permissionless and needs no stake, and the registry holds at
//! most 64 entries that only their own authority can remove. This test asserts that zero-stake registrations
//! cannot lock staked operators out of the protocol; it currently FAILS with RegistryFull (tests/BUGS.md #3),
//! so it is ignored until the program bounds or evicts unstaked entries.
use verity_tests::{default_params, Protocol, Signer, SOL};

#[tokio::test]
#[ignore = "BUGS.md #3: 61 zero-stake registrations fill the 64-entry registry; staked operators are locked out"]
async fn zero_stake_squatters_cannot_lock_staked_operators_out() {
    let mut p = Protocol::with_operators(default_params(), 3, 100_000).await;
    // The squatter: 61 fresh keys, each paying only the Operator account's rent (recoverable later).
    for _ in 0..61 {
        let k = p.env.funded_keypair(SOL / 10).await;
        let reg = p.ix_register_operator(&k.pubkey(), 1);
        p.env.ok(&[reg], &[&k]).await;
    }
    assert_eq!(p.registry().await.entries.len(), 64);
    // An honest operator with real stake wants to join.
    let honest = p.env.funded_keypair(SOL).await;
    let tokens = p.env.create_token_account(&p.stake_mint, &honest.pubkey()).await;
    let mint_authority = p.mint_authority.insecure_clone();
    p.env.mint_to(&p.stake_mint, &mint_authority, &tokens, 1_000_000).await;
    let ixs = [p.ix_register_operator(&honest.pubkey(), 1), p.ix_stake(&honest.pubkey(), &tokens, 500_000)];
    let res = p.env.send(&ixs, &[&honest]).await;
    assert!(res.is_ok(), "a staked operator was locked out by zero-stake entries: {:?}", res.err().map(|e| e.err));
}
