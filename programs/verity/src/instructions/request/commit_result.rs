//! `commit_result` (committee member): records sha256("verity-commit-v1" ‖ request ‖ operator ‖ output_hash
//! ‖ salt). The reveal phase opens when every member has committed or the commit deadline passes.
use {
    crate::{constants::*, events::ResultCommitted, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct CommitResult<'info> {
    /// The operator authority (a committee member).
    pub operator: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        mut,
        seeds = [REQUEST_SEED, request.requester.as_ref(), &request.nonce.to_le_bytes()],
        bump = request.bump,
    )]
    pub request: Box<Account<'info, Request>>,
}

impl CommitResult<'_> {
    pub fn handler(ctx: Context<Self>, commitment: [u8; 32]) -> Result<()> {
        let a = &mut *ctx.accounts;
        let now = Clock::get()?.slot;
        let window = a.request.terms.reveal_window;
        let committed_count = a.request.commit_by(a.operator.key, commitment, now, window)?;
        crate::emit_event!(ResultCommitted {
            request: a.request.key(),
            operator: a.operator.key(),
            committed_count,
            status: a.request.status,
            reveal_deadline: a.request.committee.reveal_deadline,
        });
        Ok(())
    }
}
