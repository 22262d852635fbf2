//! `finalize_request` (anyone, once the reveal phase is over): strict majority wins; pays royalty and
//! protocol fee, records members' rewards, slashes minority / no-reveal / no-commit members (treasury share
//! leaves the vault at once, the rest is credited to the majority's stake). Without a majority the request is
//! `Escalated` (fee kept for the 2k+1 escalation round opened by `open_dispute`). Remaining accounts: every
//! member's Operator PDA, writable, committee order.
use {
    crate::{constants::*, errors::VerityError, events::*, state::*},
    anchor_lang::prelude::*,
    anchor_spl::token::{transfer_checked, Mint, Token, TokenAccount, TransferChecked},
};

#[derive(Accounts)]
pub struct FinalizeRequest<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [REGISTRY_SEED], bump = registry.bump)]
    pub registry: Box<Account<'info, OperatorRegistry>>,
    #[account(
        mut,
        seeds = [REQUEST_SEED, request.requester.as_ref(), &request.nonce.to_le_bytes()],
        bump = request.bump,
    )]
    pub request: Box<Account<'info, Request>>,
    /// CHECK: receives the refund when there is no consensus.
    #[account(mut, address = request.requester @ VerityError::AccountMismatch)]
    pub requester: UncheckedAccount<'info>,
    /// CHECK: receives the royalty.
    #[account(mut, address = request.model_owner @ VerityError::AccountMismatch)]
    pub model_owner: UncheckedAccount<'info>,
    /// CHECK: receives the protocol fee.
    #[account(mut, address = config.treasury @ VerityError::AccountMismatch)]
    pub treasury: UncheckedAccount<'info>,
    #[account(address = config.stake_mint @ VerityError::InvalidStakeTokenAccount)]
    pub stake_mint: Box<Account<'info, Mint>>,
    #[account(mut, address = config.stake_vault @ VerityError::InvalidStakeTokenAccount)]
    pub stake_vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, address = config.treasury_stake @ VerityError::InvalidStakeTokenAccount)]
    pub treasury_stake: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

/// Loads the Operator accounts of `authorities` from `remaining` (exactly that many, in that order), checking
/// owner, PDA and writability.
pub fn load_operators_for<'info>(
    remaining: &'info [AccountInfo<'info>],
    authorities: &[Pubkey],
) -> Result<Vec<Account<'info, Operator>>> {
    require!(remaining.len() == authorities.len(), VerityError::WrongOperatorAccounts);
    let mut ops = Vec::with_capacity(remaining.len());
    for (info, auth) in remaining.iter().zip(authorities.iter()).take(MAX_MEMBERS.saturating_mul(2)) {
        require!(info.is_writable, VerityError::WrongOperatorAccounts);
        let op = Account::<Operator>::try_from(info).map_err(|_| error!(VerityError::WrongOperatorAccounts))?;
        require_keys_eq!(op.authority, *auth, VerityError::WrongOperatorAccounts);
        let pda = Pubkey::create_program_address(&[OPERATOR_SEED, auth.as_ref(), &[op.bump]], &crate::ID)
            .map_err(|_| error!(VerityError::WrongOperatorAccounts))?;
        require_keys_eq!(*info.key, pda, VerityError::WrongOperatorAccounts);
        ops.push(op);
    }
    Ok(ops)
}

/// Moves `amount` stake tokens from the vault to the treasury stake account (the Config PDA signs).
pub fn pay_slash_to_treasury<'info>(
    config: &Account<'info, Config>,
    stake_mint: &Account<'info, Mint>,
    stake_vault: &Account<'info, TokenAccount>,
    treasury_stake: &Account<'info, TokenAccount>,
    token_program: &Program<'info, Token>,
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    let bump = [config.bump];
    let seeds: &[&[u8]] = &[CONFIG_SEED, &bump];
    let signer = &[seeds];
    let cpi = TransferChecked {
        from: stake_vault.to_account_info(),
        mint: stake_mint.to_account_info(),
        to: treasury_stake.to_account_info(),
        authority: config.to_account_info(),
    };
    transfer_checked(CpiContext::new_with_signer(token_program.key(), cpi, signer), amount, stake_mint.decimals)
}

impl<'info> FinalizeRequest<'info> {
    pub fn handler(ctx: Context<'info, Self>) -> Result<()> {
        let a = &mut *ctx.accounts;
        let now = Clock::get()?.slot;
        let request_key = a.request.key();
        let window = a.request.terms.reveal_window;
        a.request.open_reveal_if_due(now, window)?;
        a.request.check_finalizable(now)?;
        let authorities: Vec<Pubkey> = a.request.committee.members.iter().map(|m| m.operator).collect();
        let mut ops = load_operators_for(ctx.remaining_accounts, &authorities)?;
        let t = a.request.terms;
        let s = {
            let mut books: Vec<&mut Operator> = ops.iter_mut().map(|o| &mut **o).collect();
            a.request.settle(&mut books, t.slash_bps, t.slash_treasury_bps, now)?
        };
        let clock = a.config.registry_clock(now);
        let unlock = a.request.unlock_slot();
        for (op, m) in ops.iter().zip(a.request.committee.members.iter()) {
            a.registry.sync(op, &clock)?;
            a.registry.adjust_open(&m.operator, false)?;
            // The majority stays slashable until its dispute window is over, whatever it does meanwhile.
            if m.outcome == Outcome::Agreed {
                a.registry.lock_until(&m.operator, unlock)?;
            }
        }
        for slash in &s.slashed {
            let op = ops.get(slash.member).ok_or(VerityError::WrongOperatorAccounts)?;
            crate::emit_event!(OperatorSlashed {
                request: request_key,
                authority: op.authority,
                amount: slash.amount,
                outcome: slash.outcome,
                stake: op.stake,
                unbonding: op.unbonding,
            });
        }
        for op in &ops {
            op.exit(&crate::ID)?;
        }
        // Lamports out of the escrow.
        for (to, amount) in [(&a.model_owner, s.royalty), (&a.treasury, s.treasury), (&a.requester, s.refund)] {
            if amount > 0 {
                a.request.sub_lamports(amount)?;
                to.add_lamports(amount)?;
            }
        }
        pay_slash_to_treasury(
            &a.config,
            &a.stake_mint,
            &a.stake_vault,
            &a.treasury_stake,
            &a.token_program,
            s.slashed_to_treasury,
        )?;
        let r = &a.request;
        if r.status == RequestStatus::Escalated {
            crate::emit_event!(RequestEscalated { request: request_key, finalized_slot: r.finalized_slot });
        }
        crate::emit_event!(RequestFinalized {
            request: request_key,
            status: r.status,
            winning_hash: r.winning_hash,
            receipt: r.receipt,
            royalty_paid: r.royalty_paid,
            protocol_fee_paid: r.protocol_fee_paid,
            rewards_total: r.rewards_total,
            refunded: s.refund,
            slashed_total: s.slashed_total,
            slashed_to_treasury: s.slashed_to_treasury,
        });
        Ok(())
    }
}
