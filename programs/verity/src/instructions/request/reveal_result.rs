//! `reveal_result` (committee member that committed): reveals output hash + salt, checked against its
//! commitment, with the token counts it measured. Only after the commit phase closes, until the reveal
//! deadline.
use {
    crate::{constants::*, events::ResultRevealed, state::*},
    anchor_lang::prelude::*,
};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct RevealArgs {
    /// sha256(profile_hash ‖ output UTF-8).
    pub output_hash: [u8; 32],
    pub salt: [u8; 32],
    /// Prompt tokens after the chat template.
    pub tokens_in: u32,
    /// Generated tokens (≤ max_tokens).
    pub tokens_out: u32,
}

#[derive(Accounts)]
pub struct RevealResult<'info> {
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

impl RevealResult<'_> {
    pub fn handler(ctx: Context<Self>, args: RevealArgs) -> Result<()> {
        let a = &mut *ctx.accounts;
        let now = Clock::get()?.slot;
        let request_key = a.request.key();
        let (window, tokens) = (a.request.terms.reveal_window, (args.tokens_in, args.tokens_out));
        let revealed_count =
            a.request.reveal_by(&request_key, a.operator.key, args.output_hash, args.salt, tokens, now, window)?;
        crate::emit_event!(ResultRevealed {
            request: request_key,
            operator: a.operator.key(),
            output_hash: args.output_hash,
            revealed_count,
        });
        Ok(())
    }
}
