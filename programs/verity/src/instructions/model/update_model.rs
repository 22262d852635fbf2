//! `update_model`: the owner replaces name, profile hash, price, limits and royalty. Requests already submitted
//! keep the snapshot they were submitted with.
use {
    crate::{constants::*, errors::VerityError, events::ModelUpdated, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct UpdateModel<'info> {
    pub owner: Signer<'info>,
    #[account(
        mut,
        seeds = [MODEL_SEED, &model.model_id.to_le_bytes()],
        bump = model.bump,
        has_one = owner @ VerityError::Unauthorized,
    )]
    pub model: Box<Account<'info, Model>>,
}

impl UpdateModel<'_> {
    pub fn handler(ctx: Context<Self>, params: ModelParams) -> Result<()> {
        let model = &mut ctx.accounts.model;
        require!(model.active, VerityError::ModelInactive);
        model.apply(&params)?;
        crate::emit_event!(ModelUpdated {
            model: model.key(),
            profile_hash: model.profile_hash,
            price_per_token: model.price_per_token,
            max_input_bytes: model.max_input_bytes,
            max_output_tokens: model.max_output_tokens,
            royalty_bps: model.royalty_bps,
            param_count: model.param_count,
        });
        Ok(())
    }
}
