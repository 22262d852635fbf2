//! `Dispute`: the second round of a request — an escalation (first round without a strict majority) or a
//! bonded challenge of a Finalized result — with its 2k+1 committee drawn from operators outside the first
//! committee (a [`Round`], the same type as the first round's), its verdict and the escrow of its members'
//! rewards.
use {
    crate::{
        constants::*,
        errors::VerityError,
        logic::{bps_of, split_fee, split_slashed, Majority},
        state::{Committee, Operator, Outcome, Request, RequestStatus, Round, Slash},
    },
    anchor_lang::prelude::*,
};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum DisputeKind {
    /// The first round had no strict majority: no bond; the escalation decides the result.
    Escalation,
    /// A challenger posted the bond against a Finalized result.
    Challenge,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum DisputePhase {
    /// Opened; waiting for `assign_dispute` (seed: first slot hash after `open_slot`).
    Open,
    Committing,
    Revealing,
    Resolved,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum Verdict {
    Pending,
    /// Challenge: the escalation majority revealed the original winning hash; the bond goes to it.
    Upheld,
    /// Challenge: the escalation majority revealed another hash; the first majority is slashed, the output replaced.
    Overturned,
    /// Escalation: a strict majority of the 2k+1 committee decided the result.
    Decided,
    /// No strict majority in the escalation round (escalation: refund; challenge: the result stands, bond back).
    NoMajority,
    /// No committee could be drawn within the assign window (escalation: refund; challenge: bond back).
    NoCommittee,
}

#[account]
#[derive(InitSpace, Debug)]
pub struct Dispute {
    pub request: Pubkey,
    pub kind: DisputeKind,
    pub phase: DisputePhase,
    pub verdict: Verdict,
    /// Paid the rent (and the bond, for a challenge); gets the rent back at `close_dispute`.
    pub opener: Pubkey,
    /// Lamports posted by the challenger (0 for an escalation); escrowed here until resolution.
    pub bond: u64,
    /// Lamports paid to the challenger on top of the bond (overturn only).
    pub challenger_reward: u64,
    /// The request's winning hash when the challenge was opened (zero for an escalation).
    pub original_hash: [u8; 32],
    /// The escalation majority's hash (zero without a majority).
    pub winning_hash: [u8; 32],
    /// 2k+1.
    pub committee_size: u8,
    /// Snapshot of the request's max_tokens (reveal check).
    pub max_tokens: u32,
    pub open_slot: u64,
    pub resolved_slot: u64,
    /// The second commit-reveal round (its phase is `phase`: Open = drawing, Committing, Revealing).
    pub committee: Round,
    /// Bitmap over the request's members: first-round majority members whose open assignments this challenge
    /// holds (so they cannot withdraw before the verdict); released at resolution.
    pub locked_first: u16,
    /// Lamports owed to this round's members (escrowed here above rent + unresolved bond), and claimed so far.
    pub rewards_total: u64,
    pub rewards_claimed: u64,
    pub bump: u8,
    /// The request's terms, with the min stake in force at the opening slot (the draw's).
    pub terms: crate::state::RequestTerms,
}

/// What `resolve_dispute` must move after `Dispute::resolve`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    /// Lamports out of the Request escrow.
    pub royalty: u64,
    pub treasury_from_request: u64,
    pub refund: u64,
    pub challenger_from_request: u64,
    pub dispute_from_request: u64,
    /// Lamports out of the Dispute escrow.
    pub bond_back: u64,
    pub treasury_from_dispute: u64,
    /// Stake tokens from the vault to the treasury stake account.
    pub slashed_to_treasury: u64,
    pub slashed_total: u64,
    /// Every member this resolution slashed (this round's faulty members; an overturned first majority).
    pub slashed: Vec<Slash>,
}

impl Dispute {
    /// Committee size of the second round: 2k+1 (≤ MAX_MEMBERS).
    pub fn size_for(k: u8) -> u8 {
        k.saturating_mul(2).saturating_add(1).min(MAX_MEMBERS as u8)
    }

    /// Whether `resolve_dispute` may run at `now` (call `open_reveal_if_due` first): a committee that is done
    /// (all committed members revealed, or reveal deadline passed), or no committee after the assign window.
    pub fn check_resolvable(&self, now: u64, assign_window: u64) -> Result<()> {
        match self.phase {
            DisputePhase::Resolved => err!(VerityError::DisputeAlreadyResolved),
            DisputePhase::Open => {
                let end = self.open_slot.checked_add(assign_window).ok_or(VerityError::MathOverflow)?;
                require!(now > end, VerityError::DisputeRoundRunning);
                Ok(())
            }
            DisputePhase::Committing => err!(VerityError::DisputeRoundRunning),
            DisputePhase::Revealing => {
                require!(self.committee.reveals_done(now), VerityError::DisputeRoundRunning);
                Ok(())
            }
        }
    }

    /// Decides the round and applies it to the request and the Operator books: `ops` are this round's members'
    /// books (committee order; empty when no committee was drawn), `first` the locked first-round majority's
    /// books (`locked_first` order). Computes the lamport and token moves (see [`Resolution`]).
    pub fn resolve(
        &mut self,
        request: &mut Request,
        ops: &mut [&mut Operator],
        first: &mut [&mut Operator],
        slash_bps: u16,
        slash_treasury_bps: u16,
        now: u64,
    ) -> Result<Resolution> {
        let drawn = self.phase != DisputePhase::Open;
        let j = self.committee.judge(Committee::Second, ops, slash_bps)?;
        let winner = j.winner;
        let mut res = Resolution { slashed_total: j.slashed_total, ..Resolution::default() };
        res.slashed = j.slashed;
        self.phase = DisputePhase::Resolved;
        self.resolved_slot = now;
        request.finalized_slot = now;
        let count = winner.map(|w| w.count).unwrap_or(0);
        let mut per_member: u64 = 0;
        match (self.kind, winner) {
            (DisputeKind::Escalation, Some(Majority { hash: h, count: c })) => {
                let fee = split_fee(request.fee, request.royalty_bps, request.protocol_fee_bps, c)?;
                res.royalty = fee.royalty;
                res.treasury_from_request = fee.treasury;
                per_member = fee.per_member;
                let rewards = fee.per_member.checked_mul(u64::from(c)).ok_or(VerityError::MathOverflow)?;
                res.dispute_from_request = rewards;
                request.royalty_paid = fee.royalty;
                request.protocol_fee_paid = fee.treasury;
                request.dispute_paid = rewards;
                request.status = RequestStatus::Finalized;
                request.winning_hash = h;
                self.verdict = Verdict::Decided;
            }
            (DisputeKind::Escalation, None) => {
                res.refund = request.fee;
                request.status = RequestStatus::NoConsensus;
                self.verdict = if drawn { Verdict::NoMajority } else { Verdict::NoCommittee };
            }
            (DisputeKind::Challenge, Some(Majority { hash: h, count: c })) if h == self.original_hash => {
                // Upheld: the bond is shared by the upholding members; remainder to the treasury.
                per_member = self.bond.checked_div(u64::from(c)).ok_or(VerityError::MathOverflow)?;
                res.treasury_from_dispute = self.bond.checked_rem(u64::from(c)).ok_or(VerityError::MathOverflow)?;
                request.status = RequestStatus::Finalized;
                self.verdict = Verdict::Upheld;
            }
            (DisputeKind::Challenge, Some(Majority { hash: h, count: c })) => {
                // Overturned: the first majority is slashed and forfeits its rewards; half of them to the
                // challenger (plus its bond back), the rest to the escalation majority (remainder: treasury).
                let mut forfeited: u64 = 0;
                let mut fi = 0usize;
                for (idx, m) in request.committee.members.iter_mut().enumerate() {
                    if m.outcome != Outcome::Agreed {
                        continue;
                    }
                    forfeited = forfeited.checked_add(m.reward).ok_or(VerityError::MathOverflow)?;
                    m.reward = 0;
                    m.outcome = Outcome::Overturned;
                    if self.locked_first & (1u16 << (idx as u32 & 15)) != 0 {
                        let op = first.get_mut(fi).ok_or(VerityError::WrongOperatorAccounts)?;
                        fi = fi.saturating_add(1);
                        require_keys_eq!(op.authority, m.operator, VerityError::WrongOperatorAccounts);
                        let amount = op.slash(slash_bps)?;
                        m.slashed = m.slashed.checked_add(amount).ok_or(VerityError::MathOverflow)?;
                        res.slashed_total = res.slashed_total.checked_add(amount).ok_or(VerityError::MathOverflow)?;
                        res.slashed.push(Slash {
                            committee: Committee::First,
                            member: idx,
                            amount,
                            outcome: m.outcome,
                        });
                    }
                }
                require!(fi == first.len(), VerityError::WrongOperatorAccounts);
                let claimed = request.rewards_claimed;
                request.rewards_total = claimed;
                let to_challenger = bps_of(forfeited, CHALLENGER_REWARD_BPS)?;
                let rest = forfeited.checked_sub(to_challenger).ok_or(VerityError::MathOverflow)?;
                per_member = rest.checked_div(u64::from(c)).ok_or(VerityError::MathOverflow)?;
                let rewards = per_member.checked_mul(u64::from(c)).ok_or(VerityError::MathOverflow)?;
                res.challenger_from_request = to_challenger;
                res.dispute_from_request = rewards;
                res.treasury_from_request = rest.checked_sub(rewards).ok_or(VerityError::MathOverflow)?;
                res.bond_back = self.bond;
                self.challenger_reward = to_challenger;
                request.dispute_paid = request.dispute_paid.checked_add(forfeited).ok_or(VerityError::MathOverflow)?;
                request.status = RequestStatus::Finalized;
                request.winning_hash = h;
                self.verdict = Verdict::Overturned;
            }
            (DisputeKind::Challenge, None) => {
                res.bond_back = self.bond;
                request.status = RequestStatus::Finalized;
                self.verdict = if drawn { Verdict::NoMajority } else { Verdict::NoCommittee };
            }
        }
        // Slashed stake (this round's faulty members, an overturned first majority): treasury share, the rest
        // credited to this round's majority.
        let (to_treasury, per_honest) = split_slashed(res.slashed_total, slash_treasury_bps, j.agreed)?;
        res.slashed_to_treasury = to_treasury;
        self.committee.pay_majority(ops, per_member, per_honest, request.param_count)?;
        self.rewards_total = per_member.checked_mul(u64::from(count)).ok_or(VerityError::MathOverflow)?;
        if let Some(Majority { hash: h, count: c }) = winner {
            self.winning_hash = h;
            if request.status == RequestStatus::Finalized && self.verdict != Verdict::Upheld {
                let mut receipt = request.base_receipt(c);
                receipt.committee_size = u8::try_from(self.committee.members.len()).unwrap_or(u8::MAX);
                receipt.set_counts(self.committee.majority_medians());
                request.receipt = receipt;
            }
        }
        Ok(res)
    }

    /// Whether `claim_dispute_reward` may pay: once the round is resolved (its rewards are then final).
    pub fn check_claimable(&self, _now: u64) -> Result<()> {
        require!(self.phase == DisputePhase::Resolved, VerityError::DisputeNotResolved);
        Ok(())
    }

    /// Whether `writer` is in this round's majority for the request's current winning hash.
    pub fn is_majority_writer(&self, writer: &Pubkey, winning_hash: &[u8; 32]) -> bool {
        self.phase == DisputePhase::Resolved && self.winning_hash == *winning_hash && self.committee.agreed(writer)
    }
}
