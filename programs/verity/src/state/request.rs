//! `Request`: one inference request — prompt, fee escrow (lamports above rent), committee, commit-reveal state,
//! outcome and compute receipt — with its phase transitions.
use {
    crate::{constants::*, errors::VerityError, logic::commitment_hash},
    anchor_lang::prelude::*,
};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum RequestStatus {
    /// Submitted, waiting for `assign_committee`.
    Pending,
    /// Committee drawn; members commit until all did or `commit_deadline` passes.
    Committing,
    /// Commit phase closed; members reveal until all committed members did or `reveal_deadline` passes.
    Revealing,
    /// A strict majority agreed; fee split recorded; rewards claimable after the dispute window.
    Finalized,
    /// No strict majority even after escalation (or no escalation committee could be drawn, or nobody opened
    /// the escalation within the assign window): fee refunded.
    NoConsensus,
    /// Not assigned within the assign window: fee refunded.
    Expired,
    /// A challenger opened a dispute on the Finalized result: a fresh 2k+1 committee repeats commit-reveal in
    /// the `Dispute` account; rewards locked until `resolve_dispute`.
    Disputed,
    /// The first round had no strict majority (non-committers/non-revealers slashed, fee still escrowed);
    /// `open_dispute` starts the 2k+1 escalation round (or `expire_request` refunds after the assign window).
    Escalated,
}

/// Delivery state of the optional callback (see `deliver_callback`).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum CallbackStatus {
    /// The request names no callback program.
    None,
    /// Named; not delivered yet.
    Pending,
    /// The callback program ran successfully (`deliver_callback`).
    Delivered,
    /// Not delivered within the callback window, or the request ended without a result (`expire_callback`).
    Failed,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum MemberState {
    Assigned,
    Committed,
    Revealed,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum Outcome {
    /// Not finalized yet.
    Pending,
    /// Revealed the winning hash: rewarded.
    Agreed,
    /// Revealed another hash while a majority existed: slashed.
    Minority,
    /// Revealed, but no majority existed: neither paid nor slashed.
    Inconclusive,
    /// Committed but did not reveal: slashed.
    NoReveal,
    /// Did not commit: slashed.
    NoCommit,
    /// Was in the majority of a result a dispute overturned: slashed, reward forfeited.
    Overturned,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct Member {
    /// Operator authority (signs commit/reveal).
    pub operator: Pubkey,
    pub state: MemberState,
    pub commitment: [u8; 32],
    pub output_hash: [u8; 32],
    pub commit_slot: u64,
    pub reveal_slot: u64,
    /// Reported at reveal.
    pub tokens_in: u32,
    pub tokens_out: u32,
    pub outcome: Outcome,
    /// Lamports owed from the fee (claimable after the dispute window).
    pub reward: u64,
    /// Stake credited from slashed members (already added to the operator's stake at finalize).
    pub slash_share: u64,
    /// Stake slashed from this member at finalize.
    pub slashed: u64,
    pub claimed: bool,
}

impl Member {
    pub fn new(operator: Pubkey) -> Member {
        Member {
            operator,
            state: MemberState::Assigned,
            commitment: [0; 32],
            output_hash: [0; 32],
            commit_slot: 0,
            reveal_slot: 0,
            tokens_in: 0,
            tokens_out: 0,
            outcome: Outcome::Pending,
            reward: 0,
            slash_share: 0,
            slashed: 0,
            claimed: false,
        }
    }
}

/// What the request cost and measured; filled at finalize from the majority.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq, InitSpace)]
pub struct ComputeReceipt {
    pub model: Pubkey,
    /// Lower median over the majority's reported counts.
    pub tokens_in: u32,
    pub tokens_out: u32,
    /// Lower median over the majority of (reveal slot − assign slot).
    pub latency_slots: u64,
    pub fee_paid: u64,
    pub price_per_token: u64,
    pub committee_size: u8,
    pub agreement_count: u8,
}

#[account]
#[derive(InitSpace, Debug)]
pub struct Request {
    pub requester: Pubkey,
    pub nonce: u64,
    pub model: Pubkey,
    /// Snapshots of the model at submit (later model updates do not affect this request).
    pub model_owner: Pubkey,
    pub model_index: u8,
    pub profile_hash: [u8; 32],
    pub price_per_token: u64,
    pub royalty_bps: u16,
    /// Snapshot of the config's protocol fee at submit.
    pub protocol_fee_bps: u16,
    /// Inline prompt (empty when given by hash + URI).
    #[max_len(MAX_PROMPT_BYTES)]
    pub prompt: Vec<u8>,
    /// sha256 of the prompt (computed by the program for inline prompts).
    pub prompt_hash: [u8; 32],
    #[max_len(MAX_URI_LEN)]
    pub prompt_uri: String,
    pub max_tokens: u32,
    pub output_capacity: u32,
    /// Lamports escrowed in this account above its rent.
    pub fee: u64,
    /// Program `deliver_callback` invokes with the result (`on_result`), if any.
    pub callback_program: Option<Pubkey>,
    pub status: RequestStatus,
    /// 0 = first committee only; 1 = a dispute or escalation was opened (at most one per request).
    pub round: u8,
    /// Committee size `k` snapshotted from the config at submit.
    pub committee_size: u8,
    pub submit_slot: u64,
    pub assign_slot: u64,
    pub commit_deadline: u64,
    /// Set when the reveal phase opens.
    pub reveal_deadline: u64,
    pub finalized_slot: u64,
    /// Slot whose hash seeded the draw, and the seed itself (auditable).
    pub seed_slot: u64,
    pub seed: [u8; 32],
    pub committed_count: u8,
    pub revealed_count: u8,
    #[max_len(MAX_MEMBERS)]
    pub members: Vec<Member>,
    pub winning_hash: [u8; 32],
    pub receipt: ComputeReceipt,
    pub royalty_paid: u64,
    pub protocol_fee_paid: u64,
    pub rewards_total: u64,
    pub rewards_claimed: u64,
    pub bump: u8,
    pub output_bump: u8,
    /// Lamports of the fee that a dispute/escalation moved out of the member rewards: the escalation majority's
    /// rewards, the challenger's reward, remainders. Invariant once Finalized: royalty_paid + protocol_fee_paid +
    /// rewards_total + dispute_paid == fee.
    pub dispute_paid: u64,
    pub callback_status: CallbackStatus,
    /// Slash shares, windows and min stake snapshotted from the config at submit.
    pub terms: crate::state::RequestTerms,
}

impl Request {
    /// Account size for a prompt of `prompt_len` bytes, a URI of `uri_len` bytes, and `2k+1` member slots.
    pub fn space(prompt_len: usize, uri_len: usize, committee_size: u8) -> usize {
        let members = usize::from(committee_size).saturating_mul(2).saturating_add(1).min(MAX_MEMBERS);
        8usize
            .saturating_add(Request::INIT_SPACE)
            .saturating_sub(MAX_PROMPT_BYTES as usize)
            .saturating_sub(MAX_URI_LEN)
            .saturating_sub(MAX_MEMBERS.saturating_mul(Member::INIT_SPACE))
            .saturating_add(prompt_len)
            .saturating_add(uri_len)
            .saturating_add(members.saturating_mul(Member::INIT_SPACE))
    }

    /// Index of `operator` in the committee.
    pub fn member_index(&self, operator: &Pubkey) -> Result<usize> {
        self.members
            .iter()
            .position(|m| m.operator == *operator)
            .ok_or_else(|| error!(VerityError::NotCommitteeMember))
    }

    /// Installs the drawn committee and opens the commit phase.
    pub fn assign(&mut self, committee: &[Pubkey], now: u64, commit_window: u64) -> Result<()> {
        require!(self.status == RequestStatus::Pending, VerityError::RequestNotPending);
        self.members = committee.iter().map(|k| Member::new(*k)).collect();
        self.assign_slot = now;
        self.commit_deadline = now.checked_add(commit_window).ok_or(VerityError::MathOverflow)?;
        self.status = RequestStatus::Committing;
        Ok(())
    }

    /// Moves Committing → Revealing once the commit deadline has passed (reveal deadline counts from it).
    pub fn open_reveal_if_due(&mut self, now: u64, reveal_window: u64) -> Result<()> {
        if self.status == RequestStatus::Committing && now > self.commit_deadline {
            self.status = RequestStatus::Revealing;
            self.reveal_deadline =
                self.commit_deadline.checked_add(reveal_window).ok_or(VerityError::MathOverflow)?;
        }
        Ok(())
    }

    /// Records member `i`'s commitment; opens the reveal phase when every member has committed.
    pub fn commit(&mut self, i: usize, commitment: [u8; 32], now: u64, reveal_window: u64) -> Result<()> {
        let state = self.members.get(i).map(|m| m.state).ok_or(VerityError::NotCommitteeMember)?;
        require!(state == MemberState::Assigned, VerityError::AlreadyCommitted);
        require!(self.status == RequestStatus::Committing, VerityError::RequestNotCommitting);
        require!(now <= self.commit_deadline, VerityError::CommitWindowClosed);
        let m = self.members.get_mut(i).ok_or(VerityError::NotCommitteeMember)?;
        m.state = MemberState::Committed;
        m.commitment = commitment;
        m.commit_slot = now;
        self.committed_count = self.committed_count.checked_add(1).ok_or(VerityError::MathOverflow)?;
        if usize::from(self.committed_count) == self.members.len() {
            self.status = RequestStatus::Revealing;
            self.reveal_deadline = now.checked_add(reveal_window).ok_or(VerityError::MathOverflow)?;
        }
        Ok(())
    }

    /// Checks member `i`'s reveal against its commitment and records it. Call `open_reveal_if_due` first.
    pub fn reveal(
        &mut self,
        request_key: &Pubkey,
        i: usize,
        output_hash: [u8; 32],
        salt: [u8; 32],
        tokens: (u32, u32),
        now: u64,
    ) -> Result<()> {
        match self.status {
            RequestStatus::Committing | RequestStatus::Pending => return err!(VerityError::RevealWindowNotOpen),
            RequestStatus::Revealing => {}
            _ => return err!(VerityError::RevealWindowClosed),
        }
        require!(now <= self.reveal_deadline, VerityError::RevealWindowClosed);
        require!(tokens.1 <= self.max_tokens, VerityError::InvalidTokenCount);
        let m = self.members.get_mut(i).ok_or(VerityError::NotCommitteeMember)?;
        match m.state {
            MemberState::Assigned => return err!(VerityError::NotCommitted),
            MemberState::Revealed => return err!(VerityError::AlreadyRevealed),
            MemberState::Committed => {}
        }
        let expected = commitment_hash(request_key, &m.operator, &output_hash, &salt);
        require!(expected == m.commitment, VerityError::CommitmentMismatch);
        m.state = MemberState::Revealed;
        m.output_hash = output_hash;
        m.reveal_slot = now;
        m.tokens_in = tokens.0;
        m.tokens_out = tokens.1;
        self.revealed_count = self.revealed_count.checked_add(1).ok_or(VerityError::MathOverflow)?;
        Ok(())
    }

    /// Whether finalize may run at `now` (call `open_reveal_if_due` first).
    pub fn check_finalizable(&self, now: u64) -> Result<()> {
        match self.status {
            RequestStatus::Pending => return err!(VerityError::RequestNotAssigned),
            RequestStatus::Committing => return err!(VerityError::FinalizeTooEarly),
            RequestStatus::Revealing => {}
            _ => return err!(VerityError::AlreadyFinalized),
        }
        let all_revealed = self.revealed_count == self.committed_count;
        require!(all_revealed || now > self.reveal_deadline, VerityError::FinalizeTooEarly);
        Ok(())
    }

    /// Whether rewards may be claimed at `now`: the dispute window is slots [finalized, finalized + window);
    /// after a resolved dispute/escalation (round > 0) no further dispute is possible, so at once.
    pub fn rewards_unlocked(&self, now: u64) -> bool {
        now >= self.unlock_slot()
    }

    /// First slot after the dispute window (the resolution slot once a second round has run).
    pub fn unlock_slot(&self) -> u64 {
        if self.round > 0 {
            self.finalized_slot
        } else {
            self.finalized_slot.saturating_add(self.terms.dispute_window)
        }
    }

    /// Whether the result's majority still has the exclusive right to complete its output (and nobody may close
    /// what writing it needs): until `RESULT_KEEP_SLOTS` after the dispute window.
    pub fn result_kept(&self, now: u64) -> bool {
        self.status == RequestStatus::Finalized && now <= self.unlock_slot().saturating_add(RESULT_KEEP_SLOTS)
    }

    /// Whether a challenge may be opened at `now`: Finalized by the first committee, within the dispute window.
    pub fn check_challengeable(&self, now: u64) -> Result<()> {
        require!(self.round == 0, VerityError::AlreadyDisputed);
        match self.status {
            RequestStatus::Finalized => {}
            RequestStatus::Disputed => return err!(VerityError::AlreadyDisputed),
            _ => return err!(VerityError::NotDisputable),
        }
        require!(!self.rewards_unlocked(now), VerityError::DisputeWindowClosed);
        Ok(())
    }
}
