//! PDA addresses of the Verity program and the commit-reveal hashes, computed independently from the spec
//! (docs/PROTOCOL.md) so tests catch a program that drifts from it.
use {
    anchor_lang::prelude::Pubkey,
    sha2::{Digest, Sha256},
    verity::constants::*,
};

fn pda(seeds: &[&[u8]]) -> Pubkey {
    Pubkey::find_program_address(seeds, &verity::ID).0
}

pub fn config() -> Pubkey {
    pda(&[CONFIG_SEED])
}
pub fn registry() -> Pubkey {
    pda(&[REGISTRY_SEED])
}
pub fn stake_vault() -> Pubkey {
    pda(&[STAKE_VAULT_SEED])
}
pub fn model(model_id: u64) -> Pubkey {
    pda(&[MODEL_SEED, &model_id.to_le_bytes()])
}
pub fn operator(authority: &Pubkey) -> Pubkey {
    pda(&[OPERATOR_SEED, authority.as_ref()])
}
pub fn request(requester: &Pubkey, nonce: u64) -> Pubkey {
    pda(&[REQUEST_SEED, requester.as_ref(), &nonce.to_le_bytes()])
}
pub fn output(request: &Pubkey) -> Pubkey {
    pda(&[OUTPUT_SEED, request.as_ref()])
}

/// sha256 over the concatenation of `parts`.
pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

/// `output_hash = sha256(profile_hash ‖ output text as UTF-8)`.
pub fn output_hash(profile_hash: &[u8; 32], text: &str) -> [u8; 32] {
    sha256(&[profile_hash, text.as_bytes()])
}

/// `commitment = sha256("verity-commit-v1" ‖ request ‖ operator ‖ output_hash ‖ salt)`.
pub fn commitment(request: &Pubkey, operator: &Pubkey, output_hash: &[u8; 32], salt: &[u8; 32]) -> [u8; 32] {
    sha256(&[b"verity-commit-v1", request.as_ref(), operator.as_ref(), output_hash, salt])
}
pub fn dispute(request: &Pubkey) -> Pubkey {
    pda(&[DISPUTE_SEED, request.as_ref()])
}
pub fn callback_authority(request: &Pubkey) -> Pubkey {
    pda(&[CALLBACK_SEED, request.as_ref()])
}
/// `["prompt", owner, nonce LE]` (the seed spelled out as PROTOCOL.md has it: catches a drift of `PROMPT_SEED`).
pub fn prompt(owner: &Pubkey, nonce: u64) -> Pubkey {
    pda(&[b"prompt", owner.as_ref(), &nonce.to_le_bytes()])
}
