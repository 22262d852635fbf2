//! `close_request` (requester): once settled — Expired, NoConsensus, or Finalized with the dispute window
//! over and every reward claimed — and once the request's Dispute account is closed (`DisputeNotClosed`: a
//! surviving Dispute would make a later request with the same nonce undisputable, and a second round's majority
//! writes the output through it), closes the Request and its Output, returning their rent.
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
    /// CHECK: the request's Dispute PDA; must hold no account (never opened, or closed by `close_dispute`).
    #[account(seeds = [DISPUTE_SEED, request.key().as_ref()], bump)]
    pub dispute: UncheckedAccount<'info>,
}

impl CloseRequest<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let a = &ctx.accounts;
        let now = Clock::get()?.slot;
        match a.request.status {
            RequestStatus::Expired | RequestStatus::NoConsensus => {}
            RequestStatus::Finalized => {
                require!(a.request.rewards_unlocked(now), VerityError::RewardsLocked);
                require!(a.request.rewards_claimed == a.request.rewards_total, VerityError::RewardsUnclaimed);
            }
            _ => return err!(VerityError::RequestNotClosable),
        }
        require!(a.dispute.data_is_empty(), VerityError::DisputeNotClosed);
        crate::emit_event!(RequestClosed { request: a.request.key(), status: a.request.status });
        Ok(())
    }
}
