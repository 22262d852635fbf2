//! Addresses of the program's PDAs from the program's own seed constants: the one derivation every Rust client
//! uses. The Agave-runtime tests derive them independently from the spec (tests/src/pda.rs) to check these seeds.
use {anchor_lang::prelude::Pubkey, verity::constants::*};

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
pub fn dispute(request: &Pubkey) -> Pubkey {
    pda(&[DISPUTE_SEED, request.as_ref()])
}
pub fn callback_signer(request: &Pubkey) -> Pubkey {
    pda(&[CALLBACK_SEED, request.as_ref()])
}
pub fn prompt(owner: &Pubkey, nonce: u64) -> Pubkey {
    pda(&[PROMPT_SEED, owner.as_ref(), &nonce.to_le_bytes()])
}
