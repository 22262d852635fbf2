//! `Request`: one inference request — prompt, fee escrow (lamports above rent), its first commit-reveal round
//! ([`Round`], k members), outcome and compute receipt — with its lifecycle transitions.
use {
    crate::{
        constants::*,
        errors::VerityError,
        state::{Member, Round},
    },
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
    /// The model's parameter count snapshotted at submit (0 = unknown).
    pub param_count: u64,
    /// ≈ 2 × param_count × (tokens_in + tokens_out): the work of one forward pass per token, saturating.
    pub approx_flops: u64,
}

impl ComputeReceipt {
    /// Sets the majority's lower-median token counts and latency, and the FLOPs estimate from them.
    pub fn set_counts(&mut self, (tokens_in, tokens_out, latency_slots): (u32, u32, u64)) {
        self.tokens_in = tokens_in;
        self.tokens_out = tokens_out;
        self.latency_slots = latency_slots;
        let tokens = u64::from(tokens_in).saturating_add(u64::from(tokens_out));
        self.approx_flops = Self::flops(self.param_count, tokens);
    }

    /// ≈FLOPs of `tokens` forward-pass tokens through a `param_count`-parameter model: 2 × params × tokens,
    /// saturating.
    pub fn flops(param_count: u64, tokens: u64) -> u64 {
        param_count.saturating_mul(2).saturating_mul(tokens)
    }
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
    /// The model's parameter count at submit (receipts: ≈FLOPs).
    pub param_count: u64,
    /// Snapshot of the config's protocol fee at submit.
    pub protocol_fee_bps: u16,
    /// Inline prompt (empty when given by hash + URI, or in a `Prompt` account).
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
    pub finalized_slot: u64,
    /// The first commit-reveal round (its phase is `status`: Pending = drawing, Committing, Revealing).
    pub committee: Round,
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
    /// Temperature, top-p and seed the nodes decode with (NUMERICS.md §7).
    pub sampling: crate::state::Sampling,
    /// The `Prompt` account holding the prompt (attached to this request; closed with it), if any: then
    /// `prompt` is empty and `prompt_hash` is the sha256 of its bytes.
    pub prompt_account: Option<Pubkey>,
}

impl Request {
    /// Account size for a prompt of `prompt_len` bytes, a URI of `uri_len` bytes, and the `k` members of the
    /// first committee (a second round's 2k+1 live in its Dispute account).
    pub fn space(prompt_len: usize, uri_len: usize, committee_size: u8) -> usize {
        let members = usize::from(committee_size).min(MAX_MEMBERS);
        8usize
            .saturating_add(Request::INIT_SPACE)
            .saturating_sub(MAX_PROMPT_BYTES as usize)
            .saturating_sub(MAX_URI_LEN)
            .saturating_sub(MAX_MEMBERS.saturating_mul(Member::INIT_SPACE))
            .saturating_add(prompt_len)
            .saturating_add(uri_len)
            .saturating_add(members.saturating_mul(Member::INIT_SPACE))
    }

    /// Whether finalize may run at `now` (call `open_reveal_if_due` first).
    pub fn check_finalizable(&self, now: u64) -> Result<()> {
        match self.status {
            RequestStatus::Pending => return err!(VerityError::RequestNotAssigned),
            RequestStatus::Committing => return err!(VerityError::FinalizeTooEarly),
            RequestStatus::Revealing => {}
            _ => return err!(VerityError::AlreadyFinalized),
        }
        require!(self.committee.reveals_done(now), VerityError::FinalizeTooEarly);
        Ok(())
    }

    /// Whether rewards may be claimed at `now`: the dispute window is slots [finalized, finalized + window);
    /// after a resolved dispute/escalation (round > 0) no further dispute is possible, so at once.
    pub fn rewards_unlocked(&self, now: u64) -> bool {
        now >= self.unlock_slot()
    }

    /// Whether `claim_reward` may pay at `now`: finalized, no dispute open, the dispute window over.
    pub fn check_claimable(&self, now: u64) -> Result<()> {
        require!(self.status != RequestStatus::Disputed, VerityError::RewardsLocked);
        require!(self.status == RequestStatus::Finalized, VerityError::RequestNotFinalized);
        require!(self.rewards_unlocked(now), VerityError::RewardsLocked);
        Ok(())
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
