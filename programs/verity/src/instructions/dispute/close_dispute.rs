//! `close_dispute` (anyone): once resolved and every reward of the round claimed, closes the Dispute account and
//! returns its rent to the opener. When the round decided the result (escalation decided, challenge
//! overturned), its majority writes the output through this account, so it stays until the output is complete
//! (or `RESULT_KEEP_SLOTS` after the resolution passed): `ResultStillNeeded`.
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
    #[account(address = dispute.request @ VerityError::AccountMismatch)]
    pub request: Box<Account<'info, Request>>,
    #[account(seeds = [OUTPUT_SEED, request.key().as_ref()], bump = request.output_bump)]
    pub output: Box<Account<'info, Output>>,
}

impl CloseDispute<'_> {
    pub fn validate(&self) -> Result<()> {
        require!(self.dispute.phase == DisputePhase::Resolved, VerityError::DisputeNotResolved);
        require!(self.dispute.rewards_claimed == self.dispute.rewards_total, VerityError::DisputeRewardsUnclaimed);
        let writes_output = matches!(self.dispute.verdict, Verdict::Decided | Verdict::Overturned);
        let now = Clock::get()?.slot;
        require!(
            !writes_output || self.output.complete || !self.request.result_kept(now),
            VerityError::ResultStillNeeded
        );
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        crate::emit_event!(DisputeClosed {
            request: ctx.accounts.dispute.request,
            dispute: ctx.accounts.dispute.key()
        });
        Ok(())
    }
}
