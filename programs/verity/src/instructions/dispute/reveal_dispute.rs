//! `reveal_dispute` (member of the 2k+1 round that committed): output hash + salt checked against its
//! commitment (bound to the Dispute key), with its token counts. After the commit phase, until the deadline.
use {
    crate::{constants::*, events::DisputeResultRevealed, instructions::RevealArgs, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct RevealDispute<'info> {
    pub operator: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [DISPUTE_SEED, dispute.request.as_ref()], bump = dispute.bump)]
    pub dispute: Box<Account<'info, Dispute>>,
}

impl RevealDispute<'_> {
    pub fn handler(ctx: Context<Self>, args: RevealArgs) -> Result<()> {
        let a = &mut *ctx.accounts;
        let now = Clock::get()?.slot;
        let key = a.dispute.key();
        let (window, tokens) = (a.dispute.terms.reveal_window, (args.tokens_in, args.tokens_out));
        let revealed_count =
            a.dispute.reveal_by(&key, a.operator.key, args.output_hash, args.salt, tokens, now, window)?;
        crate::emit_event!(DisputeResultRevealed {
            dispute: key,
            operator: a.operator.key(),
            output_hash: args.output_hash,
            revealed_count,
        });
        Ok(())
    }
}
