//! `stake`: moves stake tokens from the operator's token account into the vault (real SPL Token CPI).
use {
    crate::{constants::*, errors::VerityError, events::OperatorStaked, state::*},
    anchor_lang::prelude::*,
    anchor_spl::token::{transfer_checked, Mint, Token, TokenAccount, TransferChecked},
};

#[derive(Accounts)]
pub struct Stake<'info> {
    pub authority: Signer<'info>,
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [REGISTRY_SEED], bump = registry.bump)]
    pub registry: Box<Account<'info, OperatorRegistry>>,
    #[account(
        mut,
        seeds = [OPERATOR_SEED, operator.authority.as_ref()],
        bump = operator.bump,
        has_one = authority @ VerityError::Unauthorized,
    )]
    pub operator: Box<Account<'info, Operator>>,
    #[account(address = config.stake_mint @ VerityError::InvalidStakeTokenAccount)]
    pub stake_mint: Box<Account<'info, Mint>>,
    /// The operator's token account (owned by `authority`).
    #[account(mut, constraint = source.mint == config.stake_mint @ VerityError::InvalidStakeTokenAccount)]
    pub source: Box<Account<'info, TokenAccount>>,
    #[account(mut, address = config.stake_vault @ VerityError::InvalidStakeTokenAccount)]
    pub stake_vault: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

impl Stake<'_> {
    pub fn validate(&self) -> Result<()> {
        self.config.require_not_paused()
    }

    pub fn handler(ctx: Context<Self>, amount: u64) -> Result<()> {
        let a = &mut *ctx.accounts;
        a.operator.add_stake(amount)?;
        let clock = a.config.registry_clock(Clock::get()?.slot);
        a.registry.sync(&a.operator, &clock)?;
        let cpi = TransferChecked {
            from: a.source.to_account_info(),
            mint: a.stake_mint.to_account_info(),
            to: a.stake_vault.to_account_info(),
            authority: a.authority.to_account_info(),
        };
        transfer_checked(CpiContext::new(a.token_program.key(), cpi), amount, a.stake_mint.decimals)?;
        crate::emit_event!(OperatorStaked { authority: a.operator.authority, amount, stake: a.operator.stake });
        Ok(())
    }
}
