//! `close_prompt` (its owner): closes a `Prompt` no request uses, rent back to the owner. A prompt attached to a
//! request closes only with that request (`close_request`), so committees can read it until the request is gone.
use {
    crate::{constants::*, errors::VerityError, events::PromptClosed, state::Prompt},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct ClosePrompt<'info> {
    #[account(mut)]
    pub owner: Signer<'info>,
    #[account(
        mut,
        close = owner,
        seeds = [PROMPT_SEED, prompt.owner.as_ref(), &prompt.nonce.to_le_bytes()],
        bump = prompt.bump,
        has_one = owner @ VerityError::Unauthorized,
    )]
    pub prompt: Box<Account<'info, Prompt>>,
}

impl ClosePrompt<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let a = &ctx.accounts;
        a.prompt.check_closable()?;
        crate::emit_event!(PromptClosed { prompt: a.prompt.key(), owner: a.owner.key(), request: None });
        Ok(())
    }
}
