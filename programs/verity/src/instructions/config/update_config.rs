//! `update_config`: the authority replaces the parameters, the treasury and the treasury stake account.
//! In-flight requests keep the terms they were submitted with (fee shares, committee size, slash shares,
//! windows, min stake: `RequestTerms`); `assign_window` is fixed at `initialize_config` (`ParameterImmutable`).
use {
    crate::{constants::*, errors::VerityError, events::ConfigUpdated, state::*},
    anchor_lang::prelude::*,
    anchor_spl::token::TokenAccount,
};

#[derive(Accounts)]
pub struct UpdateConfig<'info> {
    pub authority: Signer<'info>,
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump, has_one = authority @ VerityError::Unauthorized)]
    pub config: Box<Account<'info, Config>>,
    /// CHECK: any account; receives protocol fees in lamports.
    pub treasury: UncheckedAccount<'info>,
    #[account(
        constraint = treasury_stake.mint == config.stake_mint @ VerityError::InvalidTreasuryStakeAccount,
        constraint = treasury_stake.key() != config.stake_vault @ VerityError::InvalidTreasuryStakeAccount,
    )]
    pub treasury_stake: Box<Account<'info, TokenAccount>>,
}

impl UpdateConfig<'_> {
    pub fn handler(ctx: Context<Self>, params: ConfigParams) -> Result<()> {
        let a = &mut *ctx.accounts;
        params.validate_update(&a.config.params)?;
        a.config.set_params(params, Clock::get()?.slot)?;
        a.config.treasury = a.treasury.key();
        a.config.treasury_stake = a.treasury_stake.key();
        crate::emit_event!(ConfigUpdated {
            treasury: a.config.treasury,
            treasury_stake: a.config.treasury_stake,
            params
        });
        Ok(())
    }
}
