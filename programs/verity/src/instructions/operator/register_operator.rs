//! `register_operator`: creates the signer's Operator account and its registry entry.
use {
    crate::{constants::*, events::OperatorRegistered, instructions::operator::check_served_models, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct RegisterOperator<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [REGISTRY_SEED], bump = registry.bump)]
    pub registry: Box<Account<'info, OperatorRegistry>>,
    #[account(
        init,
        payer = authority,
        space = 8 + Operator::INIT_SPACE,
        seeds = [OPERATOR_SEED, authority.key().as_ref()],
        bump,
    )]
    pub operator: Box<Account<'info, Operator>>,
    pub system_program: Program<'info, System>,
}

impl RegisterOperator<'_> {
    pub fn validate(&self, served_models: u64) -> Result<()> {
        self.config.require_not_paused()?;
        check_served_models(served_models, self.config.model_count)
    }

    pub fn handler(ctx: Context<Self>, served_models: u64) -> Result<()> {
        let a = &mut *ctx.accounts;
        let authority = a.authority.key();
        a.operator.set_inner(Operator {
            authority,
            served_models,
            registered_slot: Clock::get()?.slot,
            bump: ctx.bumps.operator,
            ..Default::default()
        });
        a.registry.sync(&a.operator, &a.config.registry_clock(a.operator.registered_slot))?;
        crate::emit_event!(OperatorRegistered {
            operator: a.operator.key(),
            authority,
            registry_len: u8::try_from(a.registry.entries.len()).unwrap_or(u8::MAX),
        });
        Ok(())
    }
}
