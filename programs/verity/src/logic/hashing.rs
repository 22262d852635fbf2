//! The protocol's hashes: commitment, output hash, prompt hash and draw seed (sha256 everywhere).
use {crate::constants::COMMIT_DOMAIN, anchor_lang::prelude::Pubkey, solana_sha256_hasher::hashv};

/// `sha256("verity-commit-v1" ‖ request ‖ operator ‖ output_hash ‖ salt)`.
pub fn commitment_hash(request: &Pubkey, operator: &Pubkey, output_hash: &[u8; 32], salt: &[u8; 32]) -> [u8; 32] {
    hashv(&[COMMIT_DOMAIN, request.as_ref(), operator.as_ref(), output_hash, salt]).to_bytes()
}

/// `sha256(profile_hash ‖ output UTF-8 bytes)`.
pub fn output_hash(profile_hash: &[u8; 32], output: &[u8]) -> [u8; 32] {
    hashv(&[profile_hash, output]).to_bytes()
}

/// `sha256(bytes)`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    hashv(&[bytes]).to_bytes()
}

/// Draw seed: `sha256(slot_hash ‖ request ‖ round)`.
pub fn draw_seed(slot_hash: &[u8; 32], request: &Pubkey, round: u8) -> [u8; 32] {
    hashv(&[slot_hash, request.as_ref(), &[round]]).to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commitment_binds_every_field() {
        let (r, o) = (Pubkey::new_unique(), Pubkey::new_unique());
        let base = commitment_hash(&r, &o, &[1; 32], &[2; 32]);
        assert_ne!(base, commitment_hash(&o, &r, &[1; 32], &[2; 32]));
        assert_ne!(base, commitment_hash(&r, &o, &[9; 32], &[2; 32]));
        assert_ne!(base, commitment_hash(&r, &o, &[1; 32], &[9; 32]));
        // Known-answer: the layout is the plain concatenation.
        let mut buf = Vec::new();
        buf.extend_from_slice(b"verity-commit-v1");
        buf.extend_from_slice(r.as_ref());
        buf.extend_from_slice(o.as_ref());
        buf.extend_from_slice(&[1; 32]);
        buf.extend_from_slice(&[2; 32]);
        assert_eq!(base, sha256(&buf));
    }

    #[test]
    fn sha256_known_answer() {
        // sha256("abc")
        assert_eq!(sha256(b"abc")[..4], [0xba, 0x78, 0x16, 0xbf],);
    }
}
