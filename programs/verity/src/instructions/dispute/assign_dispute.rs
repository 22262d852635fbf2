//! `assign_dispute` (anyone, within `assign_window` slots of the opening slot): draws the 2k+1 committee of an
//! open dispute/escalation — stake-weighted over registry values in force at the opening slot, excluding the
//! first committee — seeded by sha256(hash of the first slot after the opening slot ‖ request ‖ round 1).
use {
    crate::{constants::*, instructions::round::*, state::*},
    anchor_lang::prelude::*,
};

/// The draw's accounts, the request (read: its first committee is excluded) and its Dispute.
#[derive(Accounts)]
pub struct AssignDispute<'info> {
    pub draw: Draw<'info>,
    #[account(seeds = [REQUEST_SEED, request.requester.as_ref(), &request.nonce.to_le_bytes()], bump = request.bump)]
    pub request: Box<Account<'info, Request>>,
    #[account(mut, seeds = [DISPUTE_SEED, request.key().as_ref()], bump = dispute.bump)]
    pub dispute: Box<Account<'info, Dispute>>,
}

impl AssignDispute<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let a = &mut *ctx.accounts;
        let first = a.request.committee.operators();
        a.draw.assign(&mut a.dispute, a.request.key(), (a.request.round, a.request.model_index), &first)
    }
}
