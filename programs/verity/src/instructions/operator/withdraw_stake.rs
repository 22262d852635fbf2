//! `withdraw_stake`: after the release slot, with no open assignments and no lock (a first-round majority
//! stays slashable until its dispute window is over), pays all unbonding stake from the vault (the Config PDA
//! signs) to the operator's token account — once no still-assignable draw can read registry values that would
//! weigh the operator above the stake it keeps. Never needs a free registry slot.
use {
    crate::{constants::*, errors::VerityError, events::StakeWithdrawn, instructions::vault::pay_from_vault, state::*},
    anchor_lang::prelude::*,
    anchor_spl::token::{Mint, Token, TokenAccount},
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
        let clock = a.config.registry_clock(now);
        let entry = a.registry.find(&a.operator.authority).and_then(|i| a.registry.entries.get(i)).copied();
        if let Some(e) = entry {
            require!(e.open_assignments == 0, VerityError::OpenAssignments);
            require!(now >= e.locked_until, VerityError::StakeLocked);
        }
        let amount = a.operator.take_unbonded(now)?;
        if let Some(e) = entry {
            require!(e.max_drawable_stake(&clock) <= a.operator.stake, VerityError::StakeStillDrawable);
        }
        a.registry.sync_if_room(&a.operator, &clock)?;
        pay_from_vault(&a.config, &a.stake_mint, &a.stake_vault, &a.destination, &a.token_program, amount)?;
        crate::emit_event!(StakeWithdrawn { authority: a.operator.authority, amount, stake: a.operator.stake });
        Ok(())
    }
}
