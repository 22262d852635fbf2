//! `withdraw_stake`: after the release slot, with no open assignments, pays all unbonding stake from the
//! vault (the Config PDA signs) to the operator's token account.
use {
    crate::{constants::*, errors::VerityError, events::StakeWithdrawn, state::*},
    anchor_lang::prelude::*,
    anchor_spl::token::{transfer_checked, Mint, Token, TokenAccount, TransferChecked},
};

#[derive(Accounts)]
pub struct WithdrawStake<'info> {
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
    /// Any token account of the stake mint.
    #[account(mut, constraint = destination.mint == config.stake_mint @ VerityError::InvalidStakeTokenAccount)]
    pub destination: Box<Account<'info, TokenAccount>>,
    #[account(mut, address = config.stake_vault @ VerityError::InvalidStakeTokenAccount)]
    pub stake_vault: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

impl WithdrawStake<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let a = &mut *ctx.accounts;
        let now = Clock::get()?.slot;
        require!(a.registry.open_assignments(&a.operator.authority) == 0, VerityError::OpenAssignments);
        let amount = a.operator.take_unbonded(now)?;
        a.registry.sync(&a.operator, &a.config.registry_clock(now))?;
        let bump = [a.config.bump];
        let seeds: &[&[u8]] = &[CONFIG_SEED, &bump];
        let signer = &[seeds];
        let cpi = TransferChecked {
            from: a.stake_vault.to_account_info(),
            mint: a.stake_mint.to_account_info(),
            to: a.destination.to_account_info(),
            authority: a.config.to_account_info(),
        };
        transfer_checked(
            CpiContext::new_with_signer(a.token_program.key(), cpi, signer),
            amount,
            a.stake_mint.decimals,
        )?;
        crate::emit_event!(StakeWithdrawn { authority: a.operator.authority, amount, stake: a.operator.stake });
        Ok(())
    }
}
