//! `resolve_dispute` (anyone, once the 2k+1 round is over, or no committee was drawn within the assign window):
//! decides the second round (strict majority of 2k+1) and applies it.
//! - Escalation: a majority finalizes the request with its hash (royalty, protocol fee, the rest shared by the
//!   escalation majority); none → the fee is refunded (NoConsensus).
//! - Challenge: same hash → upheld, the bond is shared by the upholding members; another hash → overturned: the
//!   first majority is slashed and forfeits its rewards (half to the challenger, with its bond back; the rest to
//!   the escalation majority), the output is cleared for the new majority to write; no majority / no committee →
//!   the result stands and the bond goes back.
//!
//! Faulty members of the round are slashed as in finalize. Remaining accounts: the round's members' Operator
//! PDAs (committee order), then the Operator PDAs of the first-round members the challenge locked (committee
//! order), all writable.
use {
    crate::{
        constants::*,
        errors::VerityError,
        events::*,
        instructions::request::{load_operators_for, pay_slash_to_treasury},
        state::*,
    },
    anchor_lang::prelude::*,
    anchor_spl::token::{Mint, Token, TokenAccount},
};

#[derive(Accounts)]
pub struct ResolveDispute<'info> {
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
    #[account(mut, seeds = [OUTPUT_SEED, request.key().as_ref()], bump = request.output_bump)]
    pub output: Box<Account<'info, Output>>,
    #[account(mut, seeds = [DISPUTE_SEED, request.key().as_ref()], bump = dispute.bump)]
    pub dispute: Box<Account<'info, Dispute>>,
    /// CHECK: receives the refund of an escalation without a majority.
    #[account(mut, address = request.requester @ VerityError::AccountMismatch)]
    pub requester: UncheckedAccount<'info>,
    /// CHECK: receives the royalty of an escalation decided by a majority.
    #[account(mut, address = request.model_owner @ VerityError::AccountMismatch)]
    pub model_owner: UncheckedAccount<'info>,
    /// CHECK: receives the protocol fee and remainders.
    #[account(mut, address = config.treasury @ VerityError::AccountMismatch)]
    pub treasury: UncheckedAccount<'info>,
    /// CHECK: the dispute's opener (the challenger): receives its bond back and its reward.
    #[account(mut, address = dispute.opener @ VerityError::AccountMismatch)]
    pub opener: UncheckedAccount<'info>,
    #[account(address = config.stake_mint @ VerityError::InvalidStakeTokenAccount)]
    pub stake_mint: Box<Account<'info, Mint>>,
    #[account(mut, address = config.stake_vault @ VerityError::InvalidStakeTokenAccount)]
    pub stake_vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, address = config.treasury_stake @ VerityError::InvalidStakeTokenAccount)]
    pub treasury_stake: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

impl<'info> ResolveDispute<'info> {
    pub fn handler(ctx: Context<'info, Self>) -> Result<()> {
        let a = &mut *ctx.accounts;
        let now = Clock::get()?.slot;
        let request_key = a.request.key();
        let dispute_key = a.dispute.key();
        let p = a.config.params;
        let window = a.dispute.terms.reveal_window;
        a.dispute.open_reveal_if_due(now, window)?;
        a.dispute.check_resolvable(now, p.assign_window)?;
        // Operator accounts: this round's members, then the locked first-round members.
        let round: Vec<Pubkey> = a.dispute.committee.members.iter().map(|m| m.operator).collect();
        let locked: Vec<Pubkey> = a
            .request
            .committee
            .members
            .iter()
            .enumerate()
            .filter(|(i, _)| a.dispute.locked_first & 1u16.checked_shl(*i as u32).unwrap_or(0) != 0)
            .map(|(_, m)| m.operator)
            .collect();
        let split = round.len();
        require!(
            ctx.remaining_accounts.len() == split.saturating_add(locked.len()),
            VerityError::WrongOperatorAccounts
        );
        let (round_infos, first_infos) = ctx.remaining_accounts.split_at(split);
        let mut ops = load_operators_for(round_infos, &round)?;
        let mut first = load_operators_for(first_infos, &locked)?;
        let res = {
            let mut books: Vec<&mut Operator> = ops.iter_mut().map(|o| &mut **o).collect();
            let mut first_books: Vec<&mut Operator> = first.iter_mut().map(|o| &mut **o).collect();
            {
                let t = a.dispute.terms;
                a.dispute.resolve(
                    &mut a.request,
                    &mut books,
                    &mut first_books,
                    t.slash_bps,
                    t.slash_treasury_bps,
                    now,
                )?
            }
        };
        let clock = a.config.registry_clock(now);
        for op in ops.iter().chain(first.iter()) {
            a.registry.sync(op, &clock)?;
            a.registry.adjust_open(&op.authority, false)?;
        }
        for s in &res.slashed {
            let op = match s.committee {
                Committee::First => {
                    let auth = a
                        .request
                        .committee
                        .members
                        .get(s.member)
                        .map(|m| m.operator)
                        .ok_or(VerityError::WrongOperatorAccounts)?;
                    first.iter().find(|o| o.authority == auth).ok_or(VerityError::WrongOperatorAccounts)?
                }
                Committee::Second => ops.get(s.member).ok_or(VerityError::WrongOperatorAccounts)?,
            };
            crate::emit_event!(OperatorSlashed {
                request: request_key,
                authority: op.authority,
                amount: s.amount,
                outcome: s.outcome,
                stake: op.stake,
                unbonding: op.unbonding,
            });
        }
        for op in ops.iter().chain(first.iter()) {
            op.exit(&crate::ID)?;
        }
        if a.dispute.verdict == Verdict::Overturned {
            a.output.reset();
        }
        // Lamports out of the request escrow, then out of the dispute escrow.
        let dispute_info = a.dispute.to_account_info();
        let from_request: [(&AccountInfo<'info>, u64); 5] = [
            (a.model_owner.as_ref(), res.royalty),
            (a.treasury.as_ref(), res.treasury_from_request),
            (a.requester.as_ref(), res.refund),
            (a.opener.as_ref(), res.challenger_from_request),
            (&dispute_info, res.dispute_from_request),
        ];
        for (to, amount) in from_request {
            if amount > 0 {
                a.request.sub_lamports(amount)?;
                to.add_lamports(amount)?;
            }
        }
        for (to, amount) in [(a.opener.as_ref(), res.bond_back), (a.treasury.as_ref(), res.treasury_from_dispute)] {
            if amount > 0 {
                a.dispute.sub_lamports(amount)?;
                to.add_lamports(amount)?;
            }
        }
        pay_slash_to_treasury(
            &a.config,
            &a.stake_mint,
            &a.stake_vault,
            &a.treasury_stake,
            &a.token_program,
            res.slashed_to_treasury,
        )?;
        let d = &a.dispute;
        crate::emit_event!(DisputeResolved {
            request: request_key,
            dispute: dispute_key,
            kind: d.kind,
            verdict: d.verdict,
            winning_hash: d.winning_hash,
            request_status: a.request.status,
            request_winning_hash: a.request.winning_hash,
            rewards_total: d.rewards_total,
            bond_back: res.bond_back,
            challenger_reward: d.challenger_reward,
            refunded: res.refund,
            slashed_total: res.slashed_total,
            slashed_to_treasury: res.slashed_to_treasury,
        });
        Ok(())
    }
}
