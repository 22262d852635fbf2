//! The client crate (`verity-client`) the fixtures, the node and the localnet build on, checked against the spec:
//! every PDA and hash it derives equals the independent derivation from docs/PROTOCOL.md (tests/src/pda.rs).
use {
    anchor_lang::prelude::Pubkey,
    verity_client::{hash, pda as client},
    verity_tests::pda as spec,
};

#[test]
fn client_pdas_match_the_spec() {
    assert_eq!(client::config(), spec::config());
    assert_eq!(client::registry(), spec::registry());
    assert_eq!(client::stake_vault(), spec::stake_vault());
    for id in [0u64, 1, 7, u64::MAX] {
        assert_eq!(client::model(id), spec::model(id), "model {id}");
    }
    for _ in 0..8 {
        let (k, nonce) = (Pubkey::new_unique(), rand_nonce());
        assert_eq!(client::operator(&k), spec::operator(&k));
        assert_eq!(client::request(&k, nonce), spec::request(&k, nonce));
        assert_eq!(client::output(&k), spec::output(&k));
        assert_eq!(client::dispute(&k), spec::dispute(&k));
        assert_eq!(client::callback_signer(&k), spec::callback_authority(&k));
        assert_eq!(client::prompt(&k, nonce), spec::prompt(&k, nonce));
    }
}

#[test]
fn client_hashes_match_the_spec() {
    let (round, op, profile, salt) = (Pubkey::new_unique(), Pubkey::new_unique(), [9u8; 32], [3u8; 32]);
    for text in ["", "Paris", "héllo wörld"] {
        let h = hash::output_hash(&profile, text);
        assert_eq!(h, spec::output_hash(&profile, text), "{text:?}");
        assert_eq!(hash::commitment_for(&round, &op, &profile, text, &salt), spec::commitment(&round, &op, &h, &salt));
    }
}

fn rand_nonce() -> u64 {
    u64::from_le_bytes(Pubkey::new_unique().to_bytes()[..8].try_into().unwrap())
}
