//! `finalize_request` (anyone, once the reveal phase is over): strict majority wins; pays royalty and
//! protocol fee, records members' rewards, slashes minority / no-reveal / no-commit members (treasury share
//! leaves the vault at once, the rest is credited to the majority's stake). Without a majority the request is
//! `Escalated` (fee kept for the 2k+1 escalation round opened by `open_dispute`). Remaining accounts: every
//! member's Operator PDA, writable, committee order. The same settlement runs inside `reveal_and_finalize`.
use {
    crate::{errors::VerityError, events::*, instructions::round::*, state::*},
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct FinalizeRequest<'info> {
    pub payout: Payout<'info>,
}

impl<'info> FinalizeRequest<'info> {
    pub fn handler(ctx: Context<'info, Self>) -> Result<()> {
        let now = Clock::get()?.slot;
        ctx.accounts.payout.finalize(ctx.remaining_accounts, now)
    }
}

impl<'info> Payout<'info> {
    /// Settles the request's first round at `now` (`remaining`: the members' Operator PDAs, committee order):
    /// judges the reveals, pays and slashes, releases the members in the registry and logs the events.
    pub fn finalize(&mut self, remaining: &'info [AccountInfo<'info>], now: u64) -> Result<()> {
        self.request.open_reveal_if_due(now)?;
        self.request.check_finalizable(now)?;
        let mut ops = load_operators_for(remaining, &self.request.committee.operators())?;
        let t = self.request.terms;
        let paid = self.request.settle(&mut books(&mut ops), t.slash_bps, t.slash_treasury_bps, now)?;
        // The majority stays slashable until its dispute window is over, whatever it does meanwhile.
        let unlock = self.request.unlock_slot();
        let locks: Vec<Option<u64>> =
            self.request.committee.members.iter().map(|m| (m.outcome == Outcome::Agreed).then_some(unlock)).collect();
        self.release(ops.iter().map(|o| &**o).zip(locks), now)?;
        for slash in &paid.slashed {
            self.log_slash(ops.get(slash.member).ok_or(VerityError::WrongOperatorAccounts)?, slash);
        }
        exit_all(&ops)?;
        let (escrow, owner, treasury) =
            (self.request.to_account_info(), self.model_owner.as_ref(), self.treasury.as_ref());
        pay_lamports(
            &escrow,
            &[(owner, paid.royalty), (treasury, paid.treasury), (self.requester.as_ref(), paid.refund)],
        )?;
        self.slash_to_treasury(paid.slashed_to_treasury)?;
        let (r, request) = (&self.request, self.request.key());
        if r.status == RequestStatus::Escalated {
            crate::emit_event!(RequestEscalated { request, finalized_slot: r.finalized_slot });
        }
        crate::emit_event!(RequestFinalized {
            request,
            status: r.status,
            winning_hash: r.winning_hash,
            receipt: r.receipt,
            royalty_paid: r.royalty_paid,
            protocol_fee_paid: r.protocol_fee_paid,
            rewards_total: r.rewards_total,
            refunded: paid.refund,
            slashed_total: paid.slashed_total,
            slashed_to_treasury: paid.slashed_to_treasury,
        });
        Ok(())
    }
}
