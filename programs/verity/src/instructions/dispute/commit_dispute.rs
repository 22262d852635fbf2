//! `commit_dispute` (member of the 2k+1 round): records sha256("verity-commit-v1" ‖ dispute ‖ operator ‖
//! output_hash ‖ salt) — the Dispute PDA in place of the request, so first-round commitments cannot be replayed.
use {
    crate::{constants::*, events::DisputeResultCommitted, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct CommitDispute<'info> {
    /// The operator authority (a member of the dispute committee).
    pub operator: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [DISPUTE_SEED, dispute.request.as_ref()], bump = dispute.bump)]
    pub dispute: Box<Account<'info, Dispute>>,
}

impl CommitDispute<'_> {
    pub fn handler(ctx: Context<Self>, commitment: [u8; 32]) -> Result<()> {
        let a = &mut *ctx.accounts;
        let now = Clock::get()?.slot;
        let window = a.dispute.terms.reveal_window;
        let committed_count = a.dispute.commit_by(a.operator.key, commitment, now, window)?;
        crate::emit_event!(DisputeResultCommitted {
            dispute: a.dispute.key(),
            operator: a.operator.key(),
            committed_count,
            phase: a.dispute.phase,
            reveal_deadline: a.dispute.committee.reveal_deadline,
        });
        Ok(())
    }
}
