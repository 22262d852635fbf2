//! `initialize_config`: creates the Config, the operator registry and the stake vault. The signer becomes
//! the authority.
use {
    crate::{constants::*, errors::VerityError, events::ConfigInitialized, state::*},
    anchor_lang::prelude::*,
    anchor_spl::token::{Mint, Token, TokenAccount},
};

#[derive(Accounts)]
pub struct InitializeConfig<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(init, payer = authority, space = 8 + Config::INIT_SPACE, seeds = [CONFIG_SEED], bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(init, payer = authority, space = 8 + OperatorRegistry::INIT_SPACE, seeds = [REGISTRY_SEED], bump)]
    pub registry: Box<Account<'info, OperatorRegistry>>,
    pub stake_mint: Box<Account<'info, Mint>>,
    #[account(
        init,
        payer = authority,
        seeds = [STAKE_VAULT_SEED],
        bump,
        token::mint = stake_mint,
        token::authority = config,
        token::token_program = token_program,
    )]
    pub stake_vault: Box<Account<'info, TokenAccount>>,
    /// CHECK: any account; receives protocol fees in lamports (must stay rent-exempt: fund it first).
    pub treasury: UncheckedAccount<'info>,
    /// CHECK: a token account of the stake mint other than the vault (created in this instruction, so it is
    /// checked in `validate`, after the vault exists: `InvalidTreasuryStakeAccount`).
    pub treasury_stake: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl InitializeConfig<'_> {
    pub fn validate(&self) -> Result<()> {
        require_keys_neq!(self.treasury_stake.key(), self.stake_vault.key(), VerityError::InvalidTreasuryStakeAccount);
        let info = self.treasury_stake.to_account_info();
        require_keys_eq!(*info.owner, self.token_program.key(), VerityError::InvalidTreasuryStakeAccount);
        let data = info.try_borrow_data()?;
        let ts = TokenAccount::try_deserialize(&mut &data[..])
            .map_err(|_| error!(VerityError::InvalidTreasuryStakeAccount))?;
        require_keys_eq!(ts.mint, self.stake_mint.key(), VerityError::InvalidTreasuryStakeAccount);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, params: ConfigParams) -> Result<()> {
        params.validate()?;
        let a = &mut *ctx.accounts;
        a.config.set_inner(Config {
            authority: a.authority.key(),
            stake_mint: a.stake_mint.key(),
            stake_vault: a.stake_vault.key(),
            treasury: a.treasury.key(),
            treasury_stake: a.treasury_stake.key(),
            params,
            paused: false,
            model_count: 0,
            request_count: 0,
            bump: ctx.bumps.config,
            vault_bump: ctx.bumps.stake_vault,
            removal_floor: params.min_stake,
            removal_floor_until: 0,
        });
        a.registry.set_inner(OperatorRegistry { entries: Vec::new(), bump: ctx.bumps.registry });
        crate::emit_event!(ConfigInitialized {
            authority: a.config.authority,
            stake_mint: a.config.stake_mint,
            stake_vault: a.config.stake_vault,
            treasury: a.config.treasury,
            treasury_stake: a.config.treasury_stake,
            params,
        });
        Ok(())
    }
}
