//! `expire_request` (anyone): a request still Pending after its assign window (no committee could be drawn)
//! expires and its whole fee goes back to the requester (Expired). An Escalated request whose escalation nobody
//! opened within `assign_window` slots of its first finalize is refunded the same way (NoConsensus).
use {
    crate::{constants::*, errors::VerityError, events::RequestExpired, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct ExpireRequest<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        mut,
        seeds = [REQUEST_SEED, request.requester.as_ref(), &request.nonce.to_le_bytes()],
        bump = request.bump,
    )]
    pub request: Box<Account<'info, Request>>,
    /// CHECK: receives the refund.
    #[account(mut, address = request.requester @ VerityError::AccountMismatch)]
    pub requester: UncheckedAccount<'info>,
}

impl ExpireRequest<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let a = &mut *ctx.accounts;
        let now = Clock::get()?.slot;
        let (from, status) = match a.request.status {
            RequestStatus::Pending => (a.request.submit_slot, RequestStatus::Expired),
            RequestStatus::Escalated if a.request.round == 0 => (a.request.finalized_slot, RequestStatus::NoConsensus),
            _ => return err!(VerityError::RequestNotPending),
        };
        let window_end = from.checked_add(a.config.params.assign_window).ok_or(VerityError::MathOverflow)?;
        require!(now > window_end, VerityError::ExpireTooEarly);
        let refund = a.request.fee;
        a.request.status = status;
        a.request.finalized_slot = now;
        if refund > 0 {
            a.request.sub_lamports(refund)?;
            a.requester.add_lamports(refund)?;
        }
        crate::emit_event!(RequestExpired { request: a.request.key(), refunded: refund });
        Ok(())
    }
}
