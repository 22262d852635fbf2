//! `Round`: one commit-reveal round — committee, commitments, reveals, deadlines, judgement — written once and
//! embedded by the `Request` (first round, k members) and the `Dispute` (second round, 2k+1 members). The owner
//! keeps the round's phase in its own status enum (which carries the rest of its lifecycle) and passes it in.
use {
    crate::{
        constants::MAX_MEMBERS,
        errors::VerityError,
        logic::{commitment_hash, lower_median, tally, Majority},
        state::{Member, MemberState, Operator, Outcome},
    },
    anchor_lang::prelude::*,
};

/// Where a round stands (the owner stores it: `RequestStatus` / `DisputePhase`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoundPhase {
    /// No committee drawn yet.
    Drawing,
    /// Members commit until all did or the commit deadline passes.
    Committing,
    /// Members reveal until all committed members did or the reveal deadline passes.
    Revealing,
    /// Judged (or the owner ended otherwise).
    Closed,
}

/// Which committee of a request a slashed member sat in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committee {
    /// The request's first committee (k members).
    First,
    /// The escalation / challenge committee (2k+1 members, in the Dispute).
    Second,
}

/// One slashed member: its committee and index in it, the stake taken and why (its outcome: Minority,
/// NoReveal, NoCommit or Overturned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slash {
    pub committee: Committee,
    pub member: usize,
    pub amount: u64,
    pub outcome: Outcome,
}

/// Outcome of judging one round against its tally.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Judgement {
    /// The strict-majority hash and its count (`None`: no majority, or no committee).
    pub winner: Option<Majority>,
    /// Members whose reveal matched the winner.
    pub agreed: u8,
    pub slashed_total: u64,
    pub slashed: Vec<Slash>,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default, PartialEq, Eq, InitSpace)]
pub struct Round {
    pub assign_slot: u64,
    pub commit_deadline: u64,
    /// Set when the reveal phase opens (all committed, or the commit deadline passed).
    pub reveal_deadline: u64,
    /// Slot whose hash seeded the draw, and the seed itself (auditable).
    pub seed_slot: u64,
    pub seed: [u8; 32],
    pub committed_count: u8,
    pub revealed_count: u8,
    #[max_len(MAX_MEMBERS)]
    pub members: Vec<Member>,
}

impl Round {
    /// The members' operator authorities, in committee order.
    pub fn operators(&self) -> Vec<Pubkey> {
        self.members.iter().map(|m| m.operator).collect()
    }

    /// Index of `operator` in the committee.
    pub fn member_index(&self, operator: &Pubkey) -> Result<usize> {
        self.members.iter().position(|m| m.operator == *operator).ok_or_else(|| error!(VerityError::NotCommitteeMember))
    }

    /// Installs the drawn committee; the commit phase runs until `now + commit_window`.
    pub fn assign(&mut self, committee: &[Pubkey], now: u64, commit_window: u64) -> Result<RoundPhase> {
        self.members = committee.iter().map(|k| Member::new(*k)).collect();
        self.assign_slot = now;
        self.commit_deadline = now.checked_add(commit_window).ok_or(VerityError::MathOverflow)?;
        Ok(RoundPhase::Committing)
    }

    /// The phase at `now` given the stored one: a commit phase whose deadline passed is a reveal phase.
    pub fn phase_at(&self, phase: RoundPhase, now: u64) -> RoundPhase {
        if phase == RoundPhase::Committing && now > self.commit_deadline {
            RoundPhase::Revealing
        } else {
            phase
        }
    }

    /// Applies [`Round::phase_at`]: opens the reveal phase (deadline counted from the commit deadline) once the
    /// commit deadline has passed.
    pub fn open_reveal_if_due(&mut self, phase: RoundPhase, now: u64, reveal_window: u64) -> Result<RoundPhase> {
        let next = self.phase_at(phase, now);
        if next != phase {
            self.reveal_deadline = self.commit_deadline.checked_add(reveal_window).ok_or(VerityError::MathOverflow)?;
        }
        Ok(next)
    }

    /// Records member `i`'s commitment; the reveal phase opens when every member has committed.
    pub fn commit(
        &mut self,
        phase: RoundPhase,
        i: usize,
        commitment: [u8; 32],
        now: u64,
        reveal_window: u64,
    ) -> Result<RoundPhase> {
        let state = self.members.get(i).map(|m| m.state).ok_or(VerityError::NotCommitteeMember)?;
        require!(state == MemberState::Assigned, VerityError::AlreadyCommitted);
        require!(phase == RoundPhase::Committing, VerityError::RequestNotCommitting);
        require!(now <= self.commit_deadline, VerityError::CommitWindowClosed);
        let m = self.members.get_mut(i).ok_or(VerityError::NotCommitteeMember)?;
        m.state = MemberState::Committed;
        m.commitment = commitment;
        m.commit_slot = now;
        self.committed_count = self.committed_count.checked_add(1).ok_or(VerityError::MathOverflow)?;
        if usize::from(self.committed_count) == self.members.len() {
            self.reveal_deadline = now.checked_add(reveal_window).ok_or(VerityError::MathOverflow)?;
            return Ok(RoundPhase::Revealing);
        }
        Ok(RoundPhase::Committing)
    }

    /// Checks member `i`'s reveal against its commitment, bound to the round's account `round_key` (the Request
    /// or the Dispute), and records it. Call [`Round::open_reveal_if_due`] first.
    #[allow(clippy::too_many_arguments)]
    pub fn reveal(
        &mut self,
        phase: RoundPhase,
        round_key: &Pubkey,
        i: usize,
        output_hash: [u8; 32],
        salt: [u8; 32],
        tokens: (u32, u32),
        max_tokens: u32,
        now: u64,
    ) -> Result<()> {
        match phase {
            RoundPhase::Drawing | RoundPhase::Committing => return err!(VerityError::RevealWindowNotOpen),
            RoundPhase::Revealing => {}
            RoundPhase::Closed => return err!(VerityError::RevealWindowClosed),
        }
        require!(now <= self.reveal_deadline, VerityError::RevealWindowClosed);
        require!(tokens.1 <= max_tokens, VerityError::InvalidTokenCount);
        let m = self.members.get_mut(i).ok_or(VerityError::NotCommitteeMember)?;
        match m.state {
            MemberState::Assigned => return err!(VerityError::NotCommitted),
            MemberState::Revealed => return err!(VerityError::AlreadyRevealed),
            MemberState::Committed => {}
        }
        let expected = commitment_hash(round_key, &m.operator, &output_hash, &salt);
        require!(expected == m.commitment, VerityError::CommitmentMismatch);
        m.state = MemberState::Revealed;
        m.output_hash = output_hash;
        m.reveal_slot = now;
        m.tokens_in = tokens.0;
        m.tokens_out = tokens.1;
        self.revealed_count = self.revealed_count.checked_add(1).ok_or(VerityError::MathOverflow)?;
        Ok(())
    }

    /// Whether a reveal phase is over at `now`: every committed member revealed, or the reveal deadline passed.
    pub fn reveals_done(&self, now: u64) -> bool {
        self.revealed_count == self.committed_count || now > self.reveal_deadline
    }

    /// Tallies the reveals, sets each member's outcome, slashes Minority / NoReveal / NoCommit members
    /// (`slash_bps`) and updates their Operator books' counters (`ops[i]` must be `members[i]`'s).
    pub fn judge(&mut self, committee: Committee, ops: &mut [&mut Operator], slash_bps: u16) -> Result<Judgement> {
        require!(ops.len() == self.members.len(), VerityError::WrongOperatorAccounts);
        let winner = tally(&self.members);
        let mut j = Judgement { winner, ..Judgement::default() };
        for (i, (m, op)) in self.members.iter_mut().zip(ops.iter_mut()).enumerate() {
            require_keys_eq!(m.operator, op.authority, VerityError::WrongOperatorAccounts);
            m.outcome = match (m.state, winner) {
                (MemberState::Revealed, Some(w)) if m.output_hash == w.hash => Outcome::Agreed,
                (MemberState::Revealed, Some(_)) => Outcome::Minority,
                (MemberState::Revealed, None) => Outcome::Inconclusive,
                (MemberState::Committed, _) => Outcome::NoReveal,
                (MemberState::Assigned, _) => Outcome::NoCommit,
            };
            op.assigned = op.assigned.checked_add(1).ok_or(VerityError::MathOverflow)?;
            if m.state == MemberState::Revealed {
                let latency = m.reveal_slot.saturating_sub(self.assign_slot);
                op.latency_slots_sum = op.latency_slots_sum.checked_add(latency).ok_or(VerityError::MathOverflow)?;
            }
            match m.outcome {
                Outcome::Agreed => {
                    j.agreed = j.agreed.checked_add(1).ok_or(VerityError::MathOverflow)?;
                    op.agreed = op.agreed.checked_add(1).ok_or(VerityError::MathOverflow)?;
                    continue;
                }
                Outcome::Minority => op.minority = op.minority.checked_add(1).ok_or(VerityError::MathOverflow)?,
                Outcome::NoReveal | Outcome::NoCommit => {
                    op.missed = op.missed.checked_add(1).ok_or(VerityError::MathOverflow)?
                }
                Outcome::Inconclusive | Outcome::Pending | Outcome::Overturned => continue,
            }
            let amount = op.slash(slash_bps)?;
            m.slashed = amount;
            j.slashed_total = j.slashed_total.checked_add(amount).ok_or(VerityError::MathOverflow)?;
            j.slashed.push(Slash { committee, member: i, amount, outcome: m.outcome });
        }
        Ok(j)
    }

    /// Credits each Agreed member `per_member` lamports of reward and `per_honest` stake from the slashed
    /// (added to its Operator book at once; `ops[i]` is `members[i]`'s), and the round's work: the majority's
    /// lower-median tokens and their ≈FLOPs for a `param_count`-parameter model (not each member's own report,
    /// which a member could inflate).
    pub fn pay_majority(
        &mut self,
        ops: &mut [&mut Operator],
        per_member: u64,
        per_honest: u64,
        param_count: u64,
    ) -> Result<()> {
        let (tokens_in, tokens_out, _) = self.majority_medians();
        let tokens = u64::from(tokens_in).saturating_add(u64::from(tokens_out));
        let flops = u128::from(param_count).saturating_mul(2).saturating_mul(u128::from(tokens));
        for (m, op) in self.members.iter_mut().zip(ops.iter_mut()) {
            if m.outcome != Outcome::Agreed {
                continue;
            }
            m.reward = per_member;
            m.slash_share = per_honest;
            op.stake = op.stake.checked_add(per_honest).ok_or(VerityError::MathOverflow)?;
            op.earned_total = op.earned_total.checked_add(per_member).ok_or(VerityError::MathOverflow)?;
            op.tokens_served = op.tokens_served.saturating_add(tokens);
            op.flops_served = op.flops_served.saturating_add(flops);
        }
        Ok(())
    }

    /// Lower medians (tokens in, tokens out, latency from the assign slot) over the Agreed members.
    pub fn majority_medians(&self) -> (u32, u32, u64) {
        let (mut tin, mut tout, mut lat) = (Vec::new(), Vec::new(), Vec::new());
        for m in self.members.iter().filter(|m| m.outcome == Outcome::Agreed) {
            tin.push(u64::from(m.tokens_in));
            tout.push(u64::from(m.tokens_out));
            lat.push(m.reveal_slot.saturating_sub(self.assign_slot));
        }
        (
            u32::try_from(lower_median(tin)).unwrap_or(u32::MAX),
            u32::try_from(lower_median(tout)).unwrap_or(u32::MAX),
            lower_median(lat),
        )
    }

    /// Marks `operator`'s reward claimed and returns it (the caller moves the lamports).
    pub fn claim(&mut self, operator: &Pubkey) -> Result<u64> {
        let i = self.member_index(operator)?;
        let m = self.members.get_mut(i).ok_or(VerityError::NotCommitteeMember)?;
        require!(!m.claimed, VerityError::AlreadyClaimed);
        require!(m.reward > 0, VerityError::NothingToClaim);
        m.claimed = true;
        Ok(m.reward)
    }

    /// Whether `writer` is an Agreed member of this round.
    pub fn agreed(&self, writer: &Pubkey) -> bool {
        self.members.iter().any(|m| m.operator == *writer && m.outcome == Outcome::Agreed)
    }
}
