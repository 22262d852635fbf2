//! Instruction builders for the authority's and model owners' instructions (config, pause, models), from the
//! client crate.
use {
    crate::fixture::Protocol,
    anchor_lang::prelude::Pubkey,
    solana_instruction::Instruction,
    verity::state::{ConfigParams, ModelParams},
    verity_client::ix as vix,
};

impl Protocol {
    pub fn ix_update_config(
        &self,
        authority: &Pubkey,
        treasury: &Pubkey,
        treasury_stake: &Pubkey,
        params: ConfigParams,
    ) -> Instruction {
        vix::update_config(authority, treasury, treasury_stake, params)
    }

    pub fn ix_set_paused(&self, authority: &Pubkey, paused: bool) -> Instruction {
        vix::set_paused(authority, paused)
    }

    pub fn ix_update_model(&self, owner: &Pubkey, model: &Pubkey, params: ModelParams) -> Instruction {
        vix::update_model(owner, model, params)
    }

    pub fn ix_deactivate_model(&self, owner: &Pubkey, model: &Pubkey) -> Instruction {
        vix::deactivate_model(owner, model)
    }
}
