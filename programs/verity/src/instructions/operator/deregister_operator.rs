//! `deregister_operator`: with no open assignments and no stake left, removes the registry entry and closes
//! the Operator account (rent to the authority). The registry entry must no longer be drawable for any request
//! that can still be assigned (`RegistryChangePending` otherwise: retry after assign_window + 1 slots).
use {
    crate::{constants::*, errors::VerityError, events::OperatorDeregistered, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct DeregisterOperator<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [REGISTRY_SEED], bump = registry.bump)]
    pub registry: Box<Account<'info, OperatorRegistry>>,
    #[account(
        mut,
        close = authority,
        seeds = [OPERATOR_SEED, operator.authority.as_ref()],
        bump = operator.bump,
        has_one = authority @ VerityError::Unauthorized,
    )]
    pub operator: Box<Account<'info, Operator>>,
}

impl DeregisterOperator<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let a = &mut *ctx.accounts;
        require!(a.registry.open_assignments(&a.operator.authority) == 0, VerityError::OpenAssignments);
        require!(a.operator.stake == 0 && a.operator.unbonding == 0, VerityError::StakeRemaining);
        a.registry.remove(&a.operator.authority, &a.config.registry_clock(Clock::get()?.slot))?;
        crate::emit_event!(OperatorDeregistered {
            authority: a.operator.authority,
            registry_len: u8::try_from(a.registry.entries.len()).unwrap_or(u8::MAX),
        });
        Ok(())
    }
}
