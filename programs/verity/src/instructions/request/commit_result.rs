//! `commit_result` (committee member): records sha256("verity-commit-v1" ‖ request ‖ operator ‖ output_hash
//! ‖ salt). The reveal phase opens when every member has committed or the commit deadline passes.
use {
    crate::{constants::*, instructions::round, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct CommitResult<'info> {
    /// The operator authority (a committee member).
    pub operator: Signer<'info>,
    #[account(
        mut,
        seeds = [REQUEST_SEED, request.requester.as_ref(), &request.nonce.to_le_bytes()],
        bump = request.bump,
    )]
    pub request: Box<Account<'info, Request>>,
}

impl CommitResult<'_> {
    pub fn handler(ctx: Context<Self>, commitment: [u8; 32]) -> Result<()> {
        round::commit(&mut ctx.accounts.request, ctx.accounts.operator.key, commitment)
    }
}
