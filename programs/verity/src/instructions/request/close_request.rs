//! `close_request` (requester): once settled — Expired, NoConsensus, or Finalized with the dispute window
//! over and every reward claimed — closes the Request and its Output, returning their rent.
use {
    crate::{constants::*, errors::VerityError, events::RequestClosed, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct CloseRequest<'info> {
    #[account(mut)]
    pub requester: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        mut,
        close = requester,
        seeds = [REQUEST_SEED, request.requester.as_ref(), &request.nonce.to_le_bytes()],
        bump = request.bump,
        has_one = requester @ VerityError::Unauthorized,
    )]
    pub request: Box<Account<'info, Request>>,
    #[account(mut, close = requester, seeds = [OUTPUT_SEED, request.key().as_ref()], bump = request.output_bump)]
    pub output: Box<Account<'info, Output>>,
}

impl CloseRequest<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let a = &ctx.accounts;
        let now = Clock::get()?.slot;
        match a.request.status {
            RequestStatus::Expired | RequestStatus::NoConsensus => {}
            RequestStatus::Finalized => {
                require!(a.request.rewards_unlocked(now, a.config.params.dispute_window), VerityError::RewardsLocked);
                require!(a.request.rewards_claimed == a.request.rewards_total, VerityError::RewardsUnclaimed);
            }
            _ => return err!(VerityError::RequestNotClosable),
        }
        crate::emit_event!(RequestClosed { request: a.request.key(), status: a.request.status });
        Ok(())
    }
}
