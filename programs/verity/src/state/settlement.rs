//! Finalize's state transition: outcomes per member, slashing, fee split, counters and the compute receipt,
//! applied to the Request and the committee's Operator books (no lamport/token movement here).
use {
    crate::{
        errors::VerityError,
        logic::{lower_median, split_fee, split_slashed, tally},
        state::{MemberState, Operator, Outcome, Request, RequestStatus},
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
    /// (member index, amount, reason 1 minority / 2 no reveal / 3 no commit) per slashed member.
    pub slashed: Vec<(usize, u64, u8)>,
}

/// Outcome of judging one commit-reveal round against its tally.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Judgement {
    /// Members whose reveal matched the winner.
    pub agreed: u8,
    pub slashed_total: u64,
    /// (member index, amount, reason 1 minority / 2 no reveal / 3 no commit) per slashed member.
    pub slashed: Vec<(usize, u64, u8)>,
}

/// Sets each member's outcome against `winner`, slashes Minority / NoReveal / NoCommit members (`slash_bps`) and
/// updates the counters of their Operator books (`ops[i]` must be `members[i]`'s). Shared by `finalize_request`
/// (first round) and `resolve_dispute` (escalation round).
pub fn judge_members(
    members: &mut [super::Member],
    ops: &mut [&mut Operator],
    winner: Option<([u8; 32], u8)>,
    slash_bps: u16,
    assign_slot: u64,
) -> Result<Judgement> {
    require!(ops.len() == members.len(), VerityError::WrongOperatorAccounts);
    let mut j = Judgement::default();
    for (i, (m, op)) in members.iter_mut().zip(ops.iter_mut()).enumerate() {
        require_keys_eq!(m.operator, op.authority, VerityError::WrongOperatorAccounts);
        m.outcome = match (m.state, winner) {
            (MemberState::Revealed, Some((h, _))) if m.output_hash == h => Outcome::Agreed,
            (MemberState::Revealed, Some(_)) => Outcome::Minority,
            (MemberState::Revealed, None) => Outcome::Inconclusive,
            (MemberState::Committed, _) => Outcome::NoReveal,
            (MemberState::Assigned, _) => Outcome::NoCommit,
        };
        op.assigned = op.assigned.checked_add(1).ok_or(VerityError::MathOverflow)?;
        if m.state == MemberState::Revealed {
            let latency = m.reveal_slot.saturating_sub(assign_slot);
            op.latency_slots_sum = op.latency_slots_sum.checked_add(latency).ok_or(VerityError::MathOverflow)?;
        }
        let reason = match m.outcome {
            Outcome::Agreed => {
                j.agreed = j.agreed.checked_add(1).ok_or(VerityError::MathOverflow)?;
                op.agreed = op.agreed.checked_add(1).ok_or(VerityError::MathOverflow)?;
                continue;
            }
            Outcome::Minority => {
                op.minority = op.minority.checked_add(1).ok_or(VerityError::MathOverflow)?;
                1
            }
            Outcome::NoReveal => 2,
            Outcome::NoCommit => 3,
            Outcome::Inconclusive | Outcome::Pending | Outcome::Overturned => continue,
        };
        if reason != 1 {
            op.missed = op.missed.checked_add(1).ok_or(VerityError::MathOverflow)?;
        }
        let amount = op.slash(slash_bps)?;
        m.slashed = amount;
        j.slashed_total = j.slashed_total.checked_add(amount).ok_or(VerityError::MathOverflow)?;
        j.slashed.push((i, amount, reason));
    }
    Ok(j)
}

/// Lower medians (tokens in, tokens out, latency) over the Agreed members.
pub fn majority_medians(members: &[super::Member], assign_slot: u64) -> (u32, u32, u64) {
    let (mut tin, mut tout, mut lat) = (Vec::new(), Vec::new(), Vec::new());
    for m in members.iter().filter(|m| m.outcome == Outcome::Agreed) {
        tin.push(u64::from(m.tokens_in));
        tout.push(u64::from(m.tokens_out));
        lat.push(m.reveal_slot.saturating_sub(assign_slot));
    }
    (
        u32::try_from(lower_median(tin)).unwrap_or(u32::MAX),
        u32::try_from(lower_median(tout)).unwrap_or(u32::MAX),
        lower_median(lat),
    )
}

impl Request {
    /// Settles the first round. `ops[i]` must be the Operator of `members[i]`. Without a strict majority the
    /// request is `Escalated` (fee kept in escrow for the escalation round; faulty members slashed, all to the
    /// treasury).
    pub fn settle(&mut self, ops: &mut [&mut Operator], slash_bps: u16, slash_treasury_bps: u16, now: u64) -> Result<Settlement> {
        require!(ops.len() == self.members.len(), VerityError::WrongOperatorAccounts);
        let winner = tally(&self.members);
        let j = judge_members(&mut self.members, ops, winner, slash_bps, self.assign_slot)?;
        let mut s = Settlement { slashed_total: j.slashed_total, slashed: j.slashed, ..Settlement::default() };
        let agreed = j.agreed;
        let (to_treasury, per_honest) = split_slashed(s.slashed_total, slash_treasury_bps, agreed)?;
        s.slashed_to_treasury = to_treasury;
        self.finalized_slot = now;
        let Some((winning_hash, count)) = winner else {
            self.status = RequestStatus::Escalated;
            self.receipt = self.base_receipt(0);
            self.receipt.fee_paid = 0;
            return Ok(s);
        };
        let fee = split_fee(self.fee, self.royalty_bps, self.protocol_fee_bps, count)?;
        s.royalty = fee.royalty;
        s.treasury = fee.treasury;
        for (m, op) in self.members.iter_mut().zip(ops.iter_mut()) {
            if m.outcome != Outcome::Agreed {
                continue;
            }
            m.reward = fee.per_member;
            m.slash_share = per_honest;
            op.stake = op.stake.checked_add(per_honest).ok_or(VerityError::MathOverflow)?;
            op.earned_total = op.earned_total.checked_add(fee.per_member).ok_or(VerityError::MathOverflow)?;
        }
        self.status = RequestStatus::Finalized;
        self.winning_hash = winning_hash;
        self.royalty_paid = fee.royalty;
        self.protocol_fee_paid = fee.treasury;
        self.rewards_total = fee.per_member.checked_mul(u64::from(count)).ok_or(VerityError::MathOverflow)?;
        let mut receipt = self.base_receipt(count);
        (receipt.tokens_in, receipt.tokens_out, receipt.latency_slots) = majority_medians(&self.members, self.assign_slot);
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
            committee_size: u8::try_from(self.members.len()).unwrap_or(u8::MAX),
            agreement_count,
        }
    }
}
