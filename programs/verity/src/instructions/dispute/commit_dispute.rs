//! `commit_dispute` (member of the 2k+1 round): records sha256("verity-commit-v1" ‖ dispute ‖ operator ‖
//! output_hash ‖ salt) — the Dispute PDA in place of the request, so first-round commitments cannot be replayed.
use {
    crate::{constants::DISPUTE_SEED, instructions::round, state::Dispute},
    anchor_lang::prelude::*,
};

/// The operator authority (a member of the dispute committee) and the Dispute.
#[derive(Accounts)]
pub struct CommitDispute<'info> {
    pub operator: Signer<'info>,
    #[account(mut, seeds = [DISPUTE_SEED, dispute.request.as_ref()], bump = dispute.bump)]
    pub dispute: Box<Account<'info, Dispute>>,
}

impl CommitDispute<'_> {
    pub fn handler(ctx: Context<Self>, commitment: [u8; 32]) -> Result<()> {
        round::commit(&mut ctx.accounts.dispute, ctx.accounts.operator.key, commitment)
    }
}
