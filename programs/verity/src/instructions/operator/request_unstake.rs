//! `request_unstake`: moves `amount` of stake into unbonding (still slashable; the operator is no longer
//! drawn until it withdraws). The release slot restarts at now + unbonding_slots.
use {
    crate::{constants::*, errors::VerityError, events::UnstakeRequested, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct RequestUnstake<'info> {
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

impl RequestUnstake<'_> {
    pub fn handler(ctx: Context<Self>, amount: u64) -> Result<()> {
        let a = &mut *ctx.accounts;
        let now = Clock::get()?.slot;
        a.operator.start_unbonding(amount, now, a.config.params.unbonding_slots)?;
        let clock = a.config.registry_clock(now);
        a.registry.sync(&a.operator, &clock)?;
        let op = &a.operator;
        crate::emit_event!(UnstakeRequested {
            authority: op.authority,
            amount,
            stake: op.stake,
            unbonding: op.unbonding,
            release_slot: op.release_slot,
        });
        Ok(())
    }
}
