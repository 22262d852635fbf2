//! `expire_callback` (anyone): records a pending callback as `Failed` when it can no longer be delivered — the
//! request ended without a result (NoConsensus, Expired), or the callback window (`CALLBACK_WINDOW` slots after
//! the rewards unlocked) passed without a successful `deliver_callback`.
use {
    crate::{constants::*, errors::VerityError, events::CallbackExpired, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct ExpireCallback<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        mut,
        seeds = [REQUEST_SEED, request.requester.as_ref(), &request.nonce.to_le_bytes()],
        bump = request.bump,
    )]
    pub request: Box<Account<'info, Request>>,
}

impl ExpireCallback<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let a = &mut *ctx.accounts;
        let now = Clock::get()?.slot;
        require!(a.request.callback_status == CallbackStatus::Pending, VerityError::CallbackNotPending);
        let expired = match a.request.status {
            RequestStatus::NoConsensus | RequestStatus::Expired => true,
            RequestStatus::Finalized => {
                now > a.request.unlock_slot().checked_add(CALLBACK_WINDOW).ok_or(VerityError::MathOverflow)?
            }
            _ => false,
        };
        require!(expired, VerityError::CallbackWindowOpen);
        a.request.callback_status = CallbackStatus::Failed;
        crate::emit_event!(CallbackExpired {
            request: a.request.key(),
            request_status: a.request.status,
            status: a.request.callback_status,
        });
        Ok(())
    }
}
