//! `set_served_models`: the operator declares which model indices it serves (u64 bitmap).
use {
    crate::{
        constants::*, errors::VerityError, events::ServedModelsSet, instructions::operator::check_served_models,
        state::*,
    },
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct SetServedModels<'info> {
    pub authority: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [REGISTRY_SEED], bump = registry.bump)]
    pub registry: Box<Account<'info, OperatorRegistry>>,
    #[account(
        mut,
        seeds = [OPERATOR_SEED, operator.authority.as_ref()],
        bump = operator.bump,
        has_one = authority @ VerityError::Unauthorized,
    )]
    pub operator: Box<Account<'info, Operator>>,
}

impl SetServedModels<'_> {
    pub fn handler(ctx: Context<Self>, served_models: u64) -> Result<()> {
        let a = &mut *ctx.accounts;
        check_served_models(served_models, a.config.model_count)?;
        a.operator.served_models = served_models;
        let clock = a.config.registry_clock(Clock::get()?.slot);
        a.registry.sync(&a.operator, &clock)?;
        crate::emit_event!(ServedModelsSet { authority: a.operator.authority, served_models });
        Ok(())
    }
}
