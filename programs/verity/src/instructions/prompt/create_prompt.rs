//! `create_prompt` (its owner): creates an empty `Prompt` PDA with room for `len` bytes (1..=
//! `MAX_LONG_PROMPT_BYTES`) declared to hash to `hash`; the owner pays the rent and gets it back when the prompt
//! closes (`close_prompt`, or `close_request` once a request uses it).
use {
    crate::{constants::*, events::PromptCreated, state::Prompt},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
#[instruction(nonce: u64, len: u32)]
pub struct CreatePrompt<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,
    /// Sized for `len` (capped at the maximum, so an oversize `len` fails with the handler's own error).
    #[account(
        init,
        payer = owner,
        space = Prompt::space(len.min(MAX_LONG_PROMPT_BYTES)),
        seeds = [PROMPT_SEED, owner.key().as_ref(), &nonce.to_le_bytes()],
        bump,
    )]
    pub prompt: Box<Account<'info, Prompt>>,
    pub system_program: Program<'info, System>,
}

impl CreatePrompt<'_> {
    pub fn handler(ctx: Context<Self>, nonce: u64, len: u32, hash: [u8; 32]) -> Result<()> {
        let a = &mut *ctx.accounts;
        a.prompt.set_inner(Prompt::new(a.owner.key(), nonce, len, hash, ctx.bumps.prompt)?);
        crate::emit_event!(PromptCreated { prompt: a.prompt.key(), owner: a.owner.key(), nonce, len, hash });
        Ok(())
    }
}
