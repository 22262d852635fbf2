//! `claim_reward` (anyone, for a member): after the dispute window (and not while a dispute is open), pays a
//! majority member's reward from the request escrow to the member's authority.
use {
    crate::{constants::*, errors::VerityError, events::RewardClaimed, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct ClaimReward<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        mut,
        seeds = [REQUEST_SEED, request.requester.as_ref(), &request.nonce.to_le_bytes()],
        bump = request.bump,
    )]
    pub request: Box<Account<'info, Request>>,
    /// CHECK: a committee member's authority (checked against the committee); receives the reward.
    #[account(mut)]
    pub operator: UncheckedAccount<'info>,
}

impl ClaimReward<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let a = &mut *ctx.accounts;
        let now = Clock::get()?.slot;
        require!(a.request.status != RequestStatus::Disputed, VerityError::RewardsLocked);
        require!(a.request.status == RequestStatus::Finalized, VerityError::RequestNotFinalized);
        require!(a.request.rewards_unlocked(now), VerityError::RewardsLocked);
        let amount = a.request.committee.claim(a.operator.key)?;
        a.request.rewards_claimed = a.request.rewards_claimed.checked_add(amount).ok_or(VerityError::MathOverflow)?;
        a.request.sub_lamports(amount)?;
        a.operator.add_lamports(amount)?;
        crate::emit_event!(RewardClaimed {
            request: a.request.key(),
            operator: a.operator.key(),
            amount,
            rewards_claimed: a.request.rewards_claimed,
        });
        Ok(())
    }
}
