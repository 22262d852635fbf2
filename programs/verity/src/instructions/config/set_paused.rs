//! `set_paused`: the authority pauses/unpauses new business (submit, register model/operator, stake).
use {
    crate::{constants::*, errors::VerityError, events::PauseSet, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct SetPaused<'info> {
    pub authority: Signer<'info>,
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump, has_one = authority @ VerityError::Unauthorized)]
    pub config: Box<Account<'info, Config>>,
}

impl SetPaused<'_> {
    pub fn handler(ctx: Context<Self>, paused: bool) -> Result<()> {
        ctx.accounts.config.paused = paused;
        crate::emit_event!(PauseSet { paused });
        Ok(())
    }
}
