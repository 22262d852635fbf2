//! `assign_committee` (anyone): draws the committee, stake-weighted from the registry, seeded by
//! sha256(hash of the first slot after submit_slot in SlotHashes ‖ request ‖ round). The seed is fixed per
//! request, so neither the requester nor the cranker can choose the committee.
use {
    crate::{constants::*, instructions::round::*, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct AssignCommittee<'info> {
    pub draw: Draw<'info>,
    #[account(
        mut,
        seeds = [REQUEST_SEED, request.requester.as_ref(), &request.nonce.to_le_bytes()],
        bump = request.bump,
    )]
    pub request: Box<Account<'info, Request>>,
}

impl AssignCommittee<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let a = &mut *ctx.accounts;
        let (key, round_of) = (a.request.key(), (a.request.round, a.request.model_index));
        a.draw.assign(&mut a.request, key, round_of, &[])
    }
}
