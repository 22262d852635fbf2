//! `claim_dispute_reward` (anyone, for a member of the 2k+1 round): after resolution, pays the member's reward
//! (share of the bond or of the fee) from the Dispute escrow to the member's authority.
use {
    crate::{constants::DISPUTE_SEED, instructions::round, state::Dispute},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct ClaimDisputeReward<'info> {
    /// CHECK: a member's authority (checked against the Dispute's committee); receives the reward.
    #[account(mut)]
    pub operator: UncheckedAccount<'info>,
    #[account(mut, seeds = [DISPUTE_SEED, dispute.request.as_ref()], bump = dispute.bump)]
    pub dispute: Box<Account<'info, Dispute>>,
}

impl ClaimDisputeReward<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        round::claim(&mut ctx.accounts.dispute, &ctx.accounts.operator)
    }
}
