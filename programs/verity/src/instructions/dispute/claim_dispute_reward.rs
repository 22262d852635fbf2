//! `claim_dispute_reward` (anyone, for a member of the 2k+1 round): after resolution, pays the member's reward
//! (share of the bond or of the fee) from the Dispute escrow to the member's authority.
use {
    crate::{constants::*, errors::VerityError, events::DisputeRewardClaimed, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct ClaimDisputeReward<'info> {
    #[account(mut, seeds = [DISPUTE_SEED, dispute.request.as_ref()], bump = dispute.bump)]
    pub dispute: Box<Account<'info, Dispute>>,
    /// CHECK: a member's authority (checked against the committee); receives the reward.
    #[account(mut)]
    pub operator: UncheckedAccount<'info>,
}

impl ClaimDisputeReward<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let a = &mut *ctx.accounts;
        require!(a.dispute.phase == DisputePhase::Resolved, VerityError::DisputeNotResolved);
        let amount = a.dispute.committee.claim(a.operator.key)?;
        a.dispute.rewards_claimed = a.dispute.rewards_claimed.checked_add(amount).ok_or(VerityError::MathOverflow)?;
        a.dispute.sub_lamports(amount)?;
        a.operator.add_lamports(amount)?;
        crate::emit_event!(DisputeRewardClaimed {
            dispute: a.dispute.key(),
            operator: a.operator.key(),
            amount,
            rewards_claimed: a.dispute.rewards_claimed,
        });
        Ok(())
    }
}
