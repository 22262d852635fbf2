//! `close_request` (requester): once settled — Expired, NoConsensus, or Finalized with the dispute window
//! over and every reward claimed — and once the request's Dispute account is closed (`DisputeNotClosed`: a
//! surviving Dispute would make a later request with the same nonce undisputable, and a second round's majority
//! writes the output through it), closes the Request and its Output — and its `Prompt` account when it has one
//! (then required: `WrongPromptAccount`, so no prompt is stranded) — returning their rent.
use {
    crate::{
        constants::*,
        errors::VerityError,
        events::{PromptClosed, RequestClosed},
        state::*,
    },
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
    /// The request's `Prompt` account: required (and closed, rent to the requester, its owner) when the request
    /// names one; absent otherwise.
    #[account(
        mut,
        close = requester,
        seeds = [PROMPT_SEED, prompt.owner.as_ref(), &prompt.nonce.to_le_bytes()],
        bump = prompt.bump,
    )]
    pub prompt: Option<Box<Account<'info, Prompt>>>,
}

impl CloseRequest<'_> {
    /// The Prompt passed is exactly the request's (none when it has none), and attached to it.
    pub fn validate(&self) -> Result<()> {
        let request = self.request.key();
        let passed = self.prompt.as_ref().map(|p| (p.key(), p.request));
        let expected = self.request.prompt_account.map(|k| (k, Some(request)));
        require!(passed == expected, VerityError::WrongPromptAccount);
        Ok(())
    }

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
        if let Some(p) = &a.prompt {
            crate::emit_event!(PromptClosed { prompt: p.key(), owner: p.owner, request: Some(a.request.key()) });
        }
        Ok(())
    }
}
