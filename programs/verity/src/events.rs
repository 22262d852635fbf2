//! Events: one per state change, past tense, carrying the post-state.
//! Logged like Anchor's `emit!` (`Program data: base64(discriminator ‖ borsh)`), through [`emit_event!`]: off
//! chain Anchor's `sol_log_data` is a no-op, so natively the log goes through the syscall stubs instead (the
//! test harness forwards them into the runtime's log collector); on SBF it is the `sol_log_data` syscall.
use {
    crate::state::{
        CallbackStatus, ComputeReceipt, ConfigParams, DisputeKind, DisputePhase, Outcome, RequestStatus, Verdict,
    },
    anchor_lang::prelude::*,
};

/// Logs `event` as `Program data:` (see the module docs).
pub fn log_event<E: anchor_lang::Event>(event: &E) {
    let data = event.data();
    #[cfg(target_os = "solana")]
    anchor_lang::solana_program::log::sol_log_data(&[&data]);
    #[cfg(not(target_os = "solana"))]
    anchor_lang::compat::solana_sysvar::program_stubs::sol_log_data(&[&data]);
}

/// The events of a round's steps, each in its account's own terms (`Request`: the first round's events;
/// `Dispute`: the second's), so that each step is written once for both rounds (implemented by
/// `state::round_account`'s `round_accounts!`). Each carries the post-state.
pub trait RoundEvents {
    type Assigned: anchor_lang::Event;
    type Committed: anchor_lang::Event;
    type Revealed: anchor_lang::Event;
    type Claimed: anchor_lang::Event;
    /// The committee was drawn (`key`: this account).
    fn assigned(&self, key: Pubkey, committee: Vec<Pubkey>) -> Self::Assigned;
    fn committed(&self, key: Pubkey, operator: Pubkey) -> Self::Committed;
    fn revealed(&self, key: Pubkey, operator: Pubkey, output_hash: [u8; 32]) -> Self::Revealed;
    fn claimed(&self, key: Pubkey, operator: Pubkey, amount: u64) -> Self::Claimed;
}

/// `emit!` that also works in the native runtime (see the module docs).
#[macro_export]
macro_rules! emit_event {
    ($event:expr) => {
        $crate::events::log_event(&$event)
    };
}

#[event]
pub struct ConfigInitialized {
    pub authority: Pubkey,
    pub stake_mint: Pubkey,
    pub stake_vault: Pubkey,
    pub treasury: Pubkey,
    pub treasury_stake: Pubkey,
    pub params: ConfigParams,
}

#[event]
pub struct ConfigUpdated {
    pub treasury: Pubkey,
    pub treasury_stake: Pubkey,
    pub params: ConfigParams,
}

#[event]
pub struct PauseSet {
    pub paused: bool,
}

#[event]
pub struct ModelRegistered {
    pub model: Pubkey,
    pub owner: Pubkey,
    pub model_id: u64,
    pub index: u8,
    pub profile_hash: [u8; 32],
    pub price_per_token: u64,
    pub max_input_bytes: u32,
    pub max_output_tokens: u32,
    pub royalty_bps: u16,
    pub param_count: u64,
}

#[event]
pub struct ModelUpdated {
    pub model: Pubkey,
    pub profile_hash: [u8; 32],
    pub price_per_token: u64,
    pub max_input_bytes: u32,
    pub max_output_tokens: u32,
    pub royalty_bps: u16,
    pub param_count: u64,
}

#[event]
pub struct ModelDeactivated {
    pub model: Pubkey,
}

#[event]
pub struct OperatorRegistered {
    pub operator: Pubkey,
    pub authority: Pubkey,
    pub registry_len: u8,
}

#[event]
pub struct OperatorStaked {
    pub authority: Pubkey,
    pub amount: u64,
    pub stake: u64,
}

#[event]
pub struct UnstakeRequested {
    pub authority: Pubkey,
    pub amount: u64,
    pub stake: u64,
    pub unbonding: u64,
    pub release_slot: u64,
}

#[event]
pub struct StakeWithdrawn {
    pub authority: Pubkey,
    pub amount: u64,
    pub stake: u64,
}

#[event]
pub struct ServedModelsSet {
    pub authority: Pubkey,
    pub served_models: u64,
}

#[event]
pub struct OperatorDeregistered {
    pub authority: Pubkey,
    pub registry_len: u8,
}

#[event]
pub struct RequestSubmitted {
    pub request: Pubkey,
    pub requester: Pubkey,
    pub model: Pubkey,
    pub nonce: u64,
    pub fee: u64,
    pub max_tokens: u32,
    pub prompt_hash: [u8; 32],
    pub submit_slot: u64,
    pub sampling: crate::state::Sampling,
    /// The `Prompt` account holding the prompt (now attached to this request), if any.
    pub prompt_account: Option<Pubkey>,
}

#[event]
pub struct CommitteeAssigned {
    pub request: Pubkey,
    pub round: u8,
    pub committee: Vec<Pubkey>,
    pub seed_slot: u64,
    pub seed: [u8; 32],
    pub commit_deadline: u64,
}

#[event]
pub struct ResultCommitted {
    pub request: Pubkey,
    pub operator: Pubkey,
    pub committed_count: u8,
    pub status: RequestStatus,
    pub reveal_deadline: u64,
}

#[event]
pub struct ResultRevealed {
    pub request: Pubkey,
    pub operator: Pubkey,
    pub output_hash: [u8; 32],
    pub revealed_count: u8,
}

#[event]
pub struct OperatorSlashed {
    pub request: Pubkey,
    pub authority: Pubkey,
    pub amount: u64,
    /// Why: `Minority`, `NoReveal` (committed, did not reveal), `NoCommit`, or `Overturned` (in a majority a
    /// dispute overturned).
    pub outcome: Outcome,
    pub stake: u64,
    pub unbonding: u64,
}

#[event]
pub struct RequestFinalized {
    pub request: Pubkey,
    /// `Finalized` (majority) or `Escalated` (no majority: the fee stays for the escalation round).
    pub status: RequestStatus,
    pub winning_hash: [u8; 32],
    pub receipt: ComputeReceipt,
    pub royalty_paid: u64,
    pub protocol_fee_paid: u64,
    pub rewards_total: u64,
    pub refunded: u64,
    pub slashed_total: u64,
    pub slashed_to_treasury: u64,
}

#[event]
pub struct OutputWritten {
    pub request: Pubkey,
    pub writer: Pubkey,
    pub written: u32,
    pub total_len: u32,
    pub complete: bool,
}

#[event]
pub struct RequestExpired {
    pub request: Pubkey,
    pub refunded: u64,
}

#[event]
pub struct RewardClaimed {
    pub request: Pubkey,
    pub operator: Pubkey,
    pub amount: u64,
    pub rewards_claimed: u64,
}

#[event]
pub struct RequestClosed {
    pub request: Pubkey,
    pub status: RequestStatus,
}

#[event]
pub struct RequestEscalated {
    pub request: Pubkey,
    /// The first round's finalize slot; `expire_request` refunds after it + assign_window if nobody escalates.
    pub finalized_slot: u64,
}

#[event]
pub struct DisputeOpened {
    pub request: Pubkey,
    pub dispute: Pubkey,
    pub kind: DisputeKind,
    pub opener: Pubkey,
    pub bond: u64,
    pub open_slot: u64,
    /// `Disputed` (challenge) or `Escalated` (escalation).
    pub request_status: RequestStatus,
}

#[event]
pub struct DisputeCommitteeAssigned {
    pub request: Pubkey,
    pub dispute: Pubkey,
    pub committee: Vec<Pubkey>,
    pub seed_slot: u64,
    pub seed: [u8; 32],
    pub commit_deadline: u64,
}

#[event]
pub struct DisputeResultCommitted {
    pub dispute: Pubkey,
    pub operator: Pubkey,
    pub committed_count: u8,
    pub phase: DisputePhase,
    pub reveal_deadline: u64,
}

#[event]
pub struct DisputeResultRevealed {
    pub dispute: Pubkey,
    pub operator: Pubkey,
    pub output_hash: [u8; 32],
    pub revealed_count: u8,
}

#[event]
pub struct DisputeResolved {
    pub request: Pubkey,
    pub dispute: Pubkey,
    pub kind: DisputeKind,
    pub verdict: Verdict,
    /// The round's majority hash (zero without one).
    pub winning_hash: [u8; 32],
    pub request_status: RequestStatus,
    pub request_winning_hash: [u8; 32],
    /// Lamports owed to the round's members (claim_dispute_reward).
    pub rewards_total: u64,
    pub bond_back: u64,
    pub challenger_reward: u64,
    pub refunded: u64,
    pub slashed_total: u64,
    pub slashed_to_treasury: u64,
}

#[event]
pub struct DisputeRewardClaimed {
    pub dispute: Pubkey,
    pub operator: Pubkey,
    pub amount: u64,
    pub rewards_claimed: u64,
}

#[event]
pub struct DisputeClosed {
    pub request: Pubkey,
    pub dispute: Pubkey,
}

#[event]
pub struct CallbackDelivered {
    pub request: Pubkey,
    pub program: Pubkey,
    pub winning_hash: [u8; 32],
    pub status: CallbackStatus,
}

#[event]
pub struct CallbackExpired {
    pub request: Pubkey,
    pub request_status: RequestStatus,
    pub status: CallbackStatus,
}

#[event]
pub struct PromptCreated {
    pub prompt: Pubkey,
    pub owner: Pubkey,
    pub nonce: u64,
    pub len: u32,
    pub hash: [u8; 32],
}

#[event]
pub struct PromptWritten {
    pub prompt: Pubkey,
    pub offset: u32,
    /// Bytes written after this chunk.
    pub written: u32,
    pub len: u32,
}

#[event]
pub struct PromptClosed {
    pub prompt: Pubkey,
    pub owner: Pubkey,
    /// The request it was closed with (`close_request`), or None (`close_prompt` of an unattached prompt).
    pub request: Option<Pubkey>,
}
