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
    crate::{constants::*, errors::VerityError, events::*, instructions::round::*, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct ResolveDispute<'info> {
    pub payout: Payout<'info>,
    #[account(mut, seeds = [OUTPUT_SEED, payout.request.key().as_ref()], bump = payout.request.output_bump)]
    pub output: Box<Account<'info, Output>>,
    #[account(mut, seeds = [DISPUTE_SEED, payout.request.key().as_ref()], bump = dispute.bump)]
    pub dispute: Box<Account<'info, Dispute>>,
    /// CHECK: the dispute's opener (the challenger): receives its bond back and its reward.
    #[account(mut, address = dispute.opener @ VerityError::AccountMismatch)]
    pub opener: UncheckedAccount<'info>,
}

impl<'info> ResolveDispute<'info> {
    pub fn handler(ctx: Context<'info, Self>) -> Result<()> {
        let a = &mut *ctx.accounts;
        let s = &mut a.payout;
        let now = Clock::get()?.slot;
        a.dispute.open_reveal_if_due(now)?;
        a.dispute.check_resolvable(now, s.config.params.assign_window)?;
        // Operator accounts: this round's members, then the locked first-round members.
        let round = a.dispute.committee.operators();
        let first_members = &s.request.committee.members;
        let is_locked = |i: usize| a.dispute.locked_first & 1u16.checked_shl(i as u32).unwrap_or(0) != 0;
        let locked: Vec<Pubkey> =
            first_members.iter().enumerate().filter(|(i, _)| is_locked(*i)).map(|(_, m)| m.operator).collect();
        let split = round.len();
        require!(
            ctx.remaining_accounts.len() == split.saturating_add(locked.len()),
            VerityError::WrongOperatorAccounts
        );
        let (round_infos, first_infos) = ctx.remaining_accounts.split_at(split);
        let mut ops = load_operators_for(round_infos, &round)?;
        let mut first = load_operators_for(first_infos, &locked)?;
        let t = a.dispute.terms;
        let res = a.dispute.resolve(
            &mut s.request,
            &mut books(&mut ops),
            &mut books(&mut first),
            t.slash_bps,
            t.slash_treasury_bps,
            now,
        )?;
        s.release(ops.iter().chain(first.iter()).map(|o| (&**o, None)), now)?;
        for slash in &res.slashed {
            let op = match slash.committee {
                Committee::First => {
                    let auth = s.request.committee.members.get(slash.member).map(|m| m.operator);
                    first.iter().find(|o| Some(o.authority) == auth)
                }
                Committee::Second => ops.get(slash.member),
            };
            s.log_slash(op.ok_or(VerityError::WrongOperatorAccounts)?, slash);
        }
        exit_all(ops.iter().chain(first.iter()))?;
        if a.dispute.verdict == Verdict::Overturned {
            a.output.reset();
        }
        // Lamports out of the request escrow, then out of the dispute escrow.
        let (dispute, opener, treasury) = (a.dispute.to_account_info(), a.opener.as_ref(), s.treasury.as_ref());
        let from_request = [
            (s.model_owner.as_ref(), res.royalty),
            (treasury, res.treasury_from_request),
            (s.requester.as_ref(), res.refund),
            (opener, res.challenger_from_request),
            (&dispute, res.dispute_from_request),
        ];
        pay_lamports(&s.request.to_account_info(), &from_request)?;
        pay_lamports(&dispute, &[(opener, res.bond_back), (treasury, res.treasury_from_dispute)])?;
        s.slash_to_treasury(res.slashed_to_treasury)?;
        let (d, r) = (&a.dispute, &s.request);
        crate::emit_event!(DisputeResolved {
            request: r.key(),
            dispute: d.key(),
            kind: d.kind,
            verdict: d.verdict,
            winning_hash: d.winning_hash,
            request_status: r.status,
            request_winning_hash: r.winning_hash,
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
