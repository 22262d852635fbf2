//! The protocol's hashes as clients compute them: the program's own functions (`verity::logic`), so a client
//! can never disagree with the program about a commitment or an output hash.
use anchor_lang::prelude::Pubkey;
pub use verity::logic::{commitment_hash, draw_seed, sha256};

/// `output_hash = sha256(profile_hash ‖ output text as UTF-8)` (docs/PROTOCOL.md "Hashes").
pub fn output_hash(profile_hash: &[u8; 32], text: &str) -> [u8; 32] {
    verity::logic::output_hash(profile_hash, text.as_bytes())
}

/// The commitment an operator sends for `text` under `profile_hash`, bound to the round account `round` (the
/// Request for a first round, the Dispute for a second one) and the operator's authority.
pub fn commitment_for(
    round: &Pubkey,
    operator: &Pubkey,
    profile_hash: &[u8; 32],
    text: &str,
    salt: &[u8; 32],
) -> [u8; 32] {
    commitment_hash(round, operator, &output_hash(profile_hash, text), salt)
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_hash_is_sha256_of_profile_then_text() {
        let ph = [7u8; 32];
        let mut bytes = ph.to_vec();
        bytes.extend_from_slice("héllo".as_bytes());
        assert_eq!(output_hash(&ph, "héllo"), sha256(&bytes));
        assert_ne!(output_hash(&ph, "hello"), output_hash(&ph, "héllo"));
    }

    #[test]
    fn commitment_binds_the_round_account() {
        let (a, b, op) = (Pubkey::new_unique(), Pubkey::new_unique(), Pubkey::new_unique());
        let ph = [1u8; 32];
        assert_ne!(commitment_for(&a, &op, &ph, "x", &[0; 32]), commitment_for(&b, &op, &ph, "x", &[0; 32]));
        assert_eq!(
            commitment_for(&a, &op, &ph, "x", &[0; 32]),
            commitment_hash(&a, &op, &output_hash(&ph, "x"), &[0; 32])
        );
    }

    #[test]
    fn hex_is_lower_case_two_digits_per_byte() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
    }
}
