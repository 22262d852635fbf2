//! `claim_reward` (anyone, for a member): after the dispute window (and not while a dispute is open), pays a
//! majority member's reward from the request escrow to the member's authority.
use {
    crate::{constants::*, instructions::round, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct ClaimReward<'info> {
    /// CHECK: a committee member's authority (checked against the committee); receives the reward.
    #[account(mut)]
    pub operator: UncheckedAccount<'info>,
    #[account(
        mut,
        seeds = [REQUEST_SEED, request.requester.as_ref(), &request.nonce.to_le_bytes()],
        bump = request.bump,
    )]
    pub request: Box<Account<'info, Request>>,
}

impl ClaimReward<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        round::claim(&mut ctx.accounts.request, &ctx.accounts.operator)
    }
}
