//! Payouts from the stake vault: a token transfer the Config PDA signs (`withdraw_stake`, the treasury share of
//! slashes at settlement).
use {
    crate::{constants::CONFIG_SEED, state::Config},
    anchor_lang::prelude::*,
    anchor_spl::token::{transfer_checked, Mint, Token, TokenAccount, TransferChecked},
};

/// Moves `amount` stake tokens from the vault to `to` (a token account of the stake mint), signed by the
/// Config PDA (the vault's owner). Zero moves nothing.
pub fn pay_from_vault<'info>(
    config: &Account<'info, Config>,
    stake_mint: &Account<'info, Mint>,
    stake_vault: &Account<'info, TokenAccount>,
    to: &Account<'info, TokenAccount>,
    token_program: &Program<'info, Token>,
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let bump = [config.bump];
    let seeds: &[&[u8]] = &[CONFIG_SEED, &bump];
    let cpi = TransferChecked {
        from: stake_vault.to_account_info(),
        mint: stake_mint.to_account_info(),
        to: to.to_account_info(),
        authority: config.to_account_info(),
    };
    let signer = &[seeds];
    transfer_checked(CpiContext::new_with_signer(token_program.key(), cpi, signer), amount, stake_mint.decimals)
}
