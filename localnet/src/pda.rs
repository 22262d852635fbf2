//! Addresses of the Verity program's PDAs (seeds from `verity::constants`).
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
