//! `request_unstake`: moves `amount` of stake into unbonding (still slashable; the operator is no longer
//! drawn until it withdraws). The release slot restarts at now + max(unbonding_slots, 2·assign_window + 2): the
//! unbonding takes effect in the registry after assign_window + 1 slots and draws may read the values before it
//! for assign_window more, so withdrawing earlier would be refused (`StakeStillDrawable`).
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
        let p = a.config.params;
        let registry_wait =
            p.assign_window.checked_mul(2).and_then(|w| w.checked_add(2)).ok_or(VerityError::MathOverflow)?;
        a.operator.start_unbonding(amount, now, p.unbonding_slots.max(registry_wait))?;
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
