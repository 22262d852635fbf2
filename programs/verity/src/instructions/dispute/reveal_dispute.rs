//! `reveal_dispute` (member of the 2k+1 round that committed): output hash + salt checked against its
//! commitment (bound to the Dispute key), with its token counts. After the commit phase, until the deadline.
use {
    crate::{constants::DISPUTE_SEED, instructions::round, state::Dispute},
    anchor_lang::prelude::*,
};

/// The operator authority (a member of the dispute committee) and the Dispute.
#[derive(Accounts)]
pub struct RevealDispute<'info> {
    pub operator: Signer<'info>,
    #[account(mut, seeds = [DISPUTE_SEED, dispute.request.as_ref()], bump = dispute.bump)]
    pub dispute: Box<Account<'info, Dispute>>,
}

impl RevealDispute<'_> {
    pub fn handler(ctx: Context<Self>, args: round::RevealArgs) -> Result<()> {
        round::reveal(&mut ctx.accounts.dispute, ctx.accounts.operator.key, args)
    }
}
