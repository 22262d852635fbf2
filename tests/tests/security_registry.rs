//! Registry exhaustion: `register_operator` is permissionless and needs no stake, and the registry holds at
//! most 64 entries. Zero-stake registrations must not lock staked operators out of the protocol (before the fix
//! of tests/BUGS.md #3 the 65th operator got RegistryFull; now a full registry evicts an entry no assignable
//! request can draw).
use verity_tests::{default_params, Protocol, Signer, SOL};

#[tokio::test]
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
    let reg = p.registry().await;
    assert_eq!(reg.entries.len(), 64);
    assert!(reg.entries.iter().any(|e| e.authority == honest.pubkey() && e.stake == 500_000));
    // Staked operators are never the ones evicted.
    for o in &p.operators {
        assert!(reg.entries.iter().any(|e| e.authority == o.authority.pubkey()), "a staked operator was evicted");
    }
}
