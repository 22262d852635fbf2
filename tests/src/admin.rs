//! Instruction builders for the authority's and model owners' instructions (config, pause, models).
use {
    crate::{
        fixture::{ix, Protocol},
        pda,
    },
    anchor_lang::prelude::Pubkey,
    solana_instruction::Instruction,
    verity::state::{ConfigParams, ModelParams},
};

impl Protocol {
    pub fn ix_update_config(&self, authority: &Pubkey, treasury: &Pubkey, treasury_stake: &Pubkey, params: ConfigParams) -> Instruction {
        ix(
            verity::accounts::UpdateConfig {
                authority: *authority,
                config: pda::config(),
                treasury: *treasury,
                treasury_stake: *treasury_stake,
            },
            verity::instruction::UpdateConfig { params },
        )
    }

    pub fn ix_set_paused(&self, authority: &Pubkey, paused: bool) -> Instruction {
        ix(
            verity::accounts::SetPaused { authority: *authority, config: pda::config() },
            verity::instruction::SetPaused { paused },
        )
    }

    pub fn ix_update_model(&self, owner: &Pubkey, model: &Pubkey, params: ModelParams) -> Instruction {
        ix(
            verity::accounts::UpdateModel { owner: *owner, model: *model },
            verity::instruction::UpdateModel { params },
        )
    }

    pub fn ix_deactivate_model(&self, owner: &Pubkey, model: &Pubkey) -> Instruction {
        ix(
            verity::accounts::DeactivateModel { owner: *owner, model: *model },
            verity::instruction::DeactivateModel {},
        )
    }
}
