//! `reveal_result` (committee member that committed): reveals output hash + salt, checked against its
//! commitment, with the token counts it measured. Only after the commit phase closes, until the reveal
//! deadline.
use {
    crate::{
        constants::*,
        instructions::round::{self, RevealArgs},
        state::*,
    },
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct RevealResult<'info> {
    /// The operator authority (a committee member).
    pub operator: Signer<'info>,
    #[account(
        mut,
        seeds = [REQUEST_SEED, request.requester.as_ref(), &request.nonce.to_le_bytes()],
        bump = request.bump,
    )]
    pub request: Box<Account<'info, Request>>,
}

impl RevealResult<'_> {
    pub fn handler(ctx: Context<Self>, args: RevealArgs) -> Result<()> {
        round::reveal(&mut ctx.accounts.request, ctx.accounts.operator.key, args)
    }
}
