//! `close_dispute` (anyone): once resolved and every reward of the round claimed, closes the Dispute account and
//! returns its rent to the opener.
use {
    crate::{constants::*, errors::VerityError, events::DisputeClosed, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct CloseDispute<'info> {
    #[account(
        mut,
        close = opener,
        seeds = [DISPUTE_SEED, dispute.request.as_ref()],
        bump = dispute.bump,
        has_one = opener @ VerityError::AccountMismatch,
    )]
    pub dispute: Box<Account<'info, Dispute>>,
    /// CHECK: the recorded opener; receives the rent.
    #[account(mut)]
    pub opener: UncheckedAccount<'info>,
}

impl CloseDispute<'_> {
    pub fn validate(&self) -> Result<()> {
        require!(self.dispute.phase == DisputePhase::Resolved, VerityError::DisputeNotResolved);
        require!(self.dispute.rewards_claimed == self.dispute.rewards_total, VerityError::DisputeRewardsUnclaimed);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        crate::emit_event!(DisputeClosed { request: ctx.accounts.dispute.request, dispute: ctx.accounts.dispute.key() });
        Ok(())
    }
}
