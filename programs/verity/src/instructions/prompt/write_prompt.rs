//! `write_prompt` (its owner): appends a chunk to a `Prompt` — sequentially (`offset` = bytes written so far),
//! within its declared length, and only while no request uses it.
use {
    crate::{constants::*, errors::VerityError, events::PromptWritten, state::Prompt},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct WritePrompt<'info> {
    pub owner: Signer<'info>,
    #[account(
        mut,
        seeds = [PROMPT_SEED, prompt.owner.as_ref(), &prompt.nonce.to_le_bytes()],
        bump = prompt.bump,
        has_one = owner @ VerityError::Unauthorized,
    )]
    pub prompt: Box<Account<'info, Prompt>>,
}

impl WritePrompt<'_> {
    pub fn handler(ctx: Context<Self>, offset: u32, data: Vec<u8>) -> Result<()> {
        let a = &mut *ctx.accounts;
        a.prompt.write(offset, &data)?;
        crate::emit_event!(PromptWritten {
            prompt: a.prompt.key(),
            offset,
            written: a.prompt.written,
            len: a.prompt.len,
        });
        Ok(())
    }
}
