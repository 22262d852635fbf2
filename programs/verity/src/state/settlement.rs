//! Finalize's state transition: the first round judged ([`crate::state::Round::judge`]), fee split and compute
//! receipt, applied to the Request and the committee's Operator books (no lamport/token movement here).
use {
    crate::{
        errors::VerityError,
        logic::{split_fee, split_slashed, Majority},
        state::{Committee, Operator, Request, RequestStatus, Slash},
    },
    anchor_lang::prelude::*,
};

/// What finalize must move after `Request::settle`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settlement {
    /// Lamports to the model owner.
    pub royalty: u64,
    /// Lamports to the treasury (protocol fee + remainder).
    pub treasury: u64,
    /// Lamports back to the requester (no consensus).
    pub refund: u64,
    /// Stake tokens from the vault to the treasury stake account.
    pub slashed_to_treasury: u64,
    pub slashed_total: u64,
    pub slashed: Vec<Slash>,
}

impl Request {
    /// Settles the first round. `ops[i]` must be the Operator of `members[i]`. Without a strict majority the
    /// request is `Escalated` (fee kept in escrow for the escalation round; faulty members slashed, all to the
    /// treasury).
    pub fn settle(
        &mut self,
        ops: &mut [&mut Operator],
        slash_bps: u16,
        slash_treasury_bps: u16,
        now: u64,
    ) -> Result<Settlement> {
        let j = self.committee.judge(Committee::First, ops, slash_bps)?;
        let winner = j.winner;
        let mut s = Settlement { slashed_total: j.slashed_total, slashed: j.slashed, ..Settlement::default() };
        let agreed = j.agreed;
        let (to_treasury, per_honest) = split_slashed(s.slashed_total, slash_treasury_bps, agreed)?;
        s.slashed_to_treasury = to_treasury;
        self.finalized_slot = now;
        let Some(Majority { hash: winning_hash, count }) = winner else {
            self.status = RequestStatus::Escalated;
            self.receipt = self.base_receipt(0);
            self.receipt.fee_paid = 0;
            return Ok(s);
        };
        let fee = split_fee(self.fee, self.royalty_bps, self.protocol_fee_bps, count)?;
        s.royalty = fee.royalty;
        s.treasury = fee.treasury;
        self.committee.pay_majority(ops, fee.per_member, per_honest, self.param_count)?;
        self.status = RequestStatus::Finalized;
        self.winning_hash = winning_hash;
        self.royalty_paid = fee.royalty;
        self.protocol_fee_paid = fee.treasury;
        self.rewards_total = fee.per_member.checked_mul(u64::from(count)).ok_or(VerityError::MathOverflow)?;
        let mut receipt = self.base_receipt(count);
        receipt.set_counts(self.committee.majority_medians());
        self.receipt = receipt;
        Ok(s)
    }

    pub(crate) fn base_receipt(&self, agreement_count: u8) -> super::ComputeReceipt {
        super::ComputeReceipt {
            model: self.model,
            tokens_in: 0,
            tokens_out: 0,
            latency_slots: 0,
            fee_paid: self.fee,
            price_per_token: self.price_per_token,
            committee_size: u8::try_from(self.committee.members.len()).unwrap_or(u8::MAX),
            agreement_count,
            param_count: self.param_count,
            approx_flops: 0,
        }
    }
}
