//! `register_model`: anyone registers a model (becoming its owner) with the config authority's approval (its
//! co-signature); it gets the next bitmap index. Indices are never reused (operators' served-models bitmaps
//! name them), so only the authority can spend the 64 of them: a stranger cannot fill the table.
use {
    crate::{constants::*, errors::VerityError, events::ModelRegistered, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
#[instruction(model_id: u64)]
pub struct RegisterModel<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,
    /// The config authority, approving the registration.
    pub authority: Signer<'info>,
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump, has_one = authority @ VerityError::ModelNotApproved)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        init,
        payer = owner,
        space = 8 + Model::INIT_SPACE,
        seeds = [MODEL_SEED, &model_id.to_le_bytes()],
        bump,
    )]
    pub model: Box<Account<'info, Model>>,
    pub system_program: Program<'info, System>,
}

impl RegisterModel<'_> {
    pub fn validate(&self) -> Result<()> {
        self.config.require_not_paused()
    }

    pub fn handler(ctx: Context<Self>, model_id: u64, params: ModelParams) -> Result<()> {
        params.validate()?;
        let a = &mut *ctx.accounts;
        let index = a.config.next_model_index()?;
        let model = &mut a.model;
        model.owner = a.owner.key();
        model.model_id = model_id;
        model.index = index;
        model.active = true;
        model.request_count = 0;
        model.bump = ctx.bumps.model;
        model.apply(&params)?;
        crate::emit_event!(ModelRegistered {
            model: model.key(),
            owner: model.owner,
            model_id,
            index,
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
