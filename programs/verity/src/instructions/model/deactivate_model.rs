//! `deactivate_model`: the owner stops new requests for the model (one-way); in-flight requests complete.
use {
    crate::{constants::*, errors::VerityError, events::ModelDeactivated, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct DeactivateModel<'info> {
    pub owner: Signer<'info>,
    #[account(
        mut,
        seeds = [MODEL_SEED, &model.model_id.to_le_bytes()],
        bump = model.bump,
        has_one = owner @ VerityError::Unauthorized,
    )]
    pub model: Box<Account<'info, Model>>,
}

impl DeactivateModel<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let model = &mut ctx.accounts.model;
        require!(model.active, VerityError::ModelInactive);
        model.active = false;
        crate::emit_event!(ModelDeactivated { model: model.key() });
        Ok(())
    }
}
