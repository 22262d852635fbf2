//! `VerityError`: every rejection of the program has its own code (6000 + index). Append-only: never reorder.
use anchor_lang::prelude::*;

#[error_code]
pub enum VerityError {
    #[msg("Signer is not the authority/owner of this account")]
    Unauthorized, // 6000
    #[msg("Protocol is paused")]
    ProtocolPaused,
    #[msg("A basis-point parameter is out of range")]
    InvalidBps,
    #[msg("Committee size must be between 1 and MAX_COMMITTEE_SIZE")]
    InvalidCommitteeSize,
    #[msg("Windows (slots) and min stake must be non-zero")]
    InvalidWindow,
    #[msg("Treasury stake account must be a token account of the stake mint")]
    InvalidTreasuryStakeAccount, // 6005
    #[msg("No more models can be registered")]
    ModelLimitReached,
    #[msg("Model is not active")]
    ModelInactive,
    #[msg("Model name must be 1..=32 bytes")]
    InvalidModelName,
    #[msg("Model limits out of range (max_input_bytes 1..=9216, max_output_tokens 1..=8192)")]
    InvalidModelLimits,
    #[msg("Prompt exceeds the model's max_input_bytes (or an inline prompt the 640-byte cap)")]
    PromptTooLarge, // 6010
    #[msg("Request needs an inline prompt or a prompt hash and URI")]
    PromptMissing,
    #[msg("Request must not carry both an inline prompt and a prompt hash/URI")]
    PromptAmbiguous,
    #[msg("Prompt URI too long")]
    UriTooLong,
    #[msg("max_tokens must be non-zero")]
    MaxTokensZero,
    #[msg("max_tokens exceeds the model's max_output_tokens")]
    MaxTokensAboveModelLimit, // 6015
    #[msg("Fee is below price_per_token * max_tokens")]
    FeeTooLow,
    #[msg("Output capacity must be 1..=4096 bytes")]
    InvalidOutputCapacity,
    #[msg("Operator registry is full")]
    RegistryFull,
    #[msg("Operator is not in the registry")]
    OperatorNotInRegistry,
    #[msg("Amount must be non-zero")]
    ZeroAmount, // 6020
    #[msg("Not enough stake")]
    InsufficientStake,
    #[msg("Nothing is unbonding")]
    NothingUnbonding,
    #[msg("Unbonding release slot not reached")]
    UnbondingNotElapsed,
    #[msg("Operator has open assignments")]
    OpenAssignments,
    #[msg("Operator still has stake or unbonding stake")]
    StakeRemaining, // 6025
    #[msg("Served-models bitmap names a model index that does not exist")]
    UnknownModelIndex,
    #[msg("Request is not pending")]
    RequestNotPending,
    #[msg("SlotHashes has no slot after the submit slot yet; crank later")]
    SlotHashNotYetAvailable,
    #[msg("SlotHashes no longer covers the submit slot; the request can only expire")]
    SlotHashExpired,
    #[msg("SlotHashes account data is malformed")]
    InvalidSlotHashes, // 6030
    #[msg("Not enough eligible operators for a committee")]
    NotEnoughOperators,
    #[msg("Signer is not a member of this request's committee")]
    NotCommitteeMember,
    #[msg("Request is not in its commit phase")]
    RequestNotCommitting,
    #[msg("Commit deadline has passed")]
    CommitWindowClosed,
    #[msg("Member already committed")]
    AlreadyCommitted, // 6035
    #[msg("Reveal window is not open yet (commit phase still running)")]
    RevealWindowNotOpen,
    #[msg("Reveal deadline has passed")]
    RevealWindowClosed,
    #[msg("Member did not commit")]
    NotCommitted,
    #[msg("Member already revealed")]
    AlreadyRevealed,
    #[msg("Revealed hash and salt do not match the commitment")]
    CommitmentMismatch, // 6040
    #[msg("Reported token counts are invalid (tokens_out above max_tokens)")]
    InvalidTokenCount,
    #[msg("Request has no committee yet")]
    RequestNotAssigned,
    #[msg("Request is already finalized, expired or settled")]
    AlreadyFinalized,
    #[msg("Reveal phase still running; finalize later")]
    FinalizeTooEarly,
    #[msg("Remaining accounts must be the committee's Operator accounts, writable, in committee order")]
    WrongOperatorAccounts, // 6045
    #[msg("Request cannot expire yet")]
    ExpireTooEarly,
    #[msg("Request is not finalized with a majority")]
    RequestNotFinalized,
    #[msg("Rewards are locked until the dispute window ends")]
    RewardsLocked,
    #[msg("No reward for this operator")]
    NothingToClaim,
    #[msg("Reward already claimed")]
    AlreadyClaimed, // 6050
    #[msg("Request cannot be closed in its current status")]
    RequestNotClosable,
    #[msg("Rewards remain unclaimed")]
    RewardsUnclaimed,
    #[msg("Signer is not in the majority")]
    NotMajorityMember,
    #[msg("Output chunk out of range")]
    OutputChunkOutOfRange,
    #[msg("Output total length exceeds the output capacity")]
    OutputTooLarge, // 6055
    #[msg("Output bytes do not match the winning output hash")]
    OutputHashMismatch,
    #[msg("Output already complete")]
    OutputAlreadyComplete,
    #[msg("Arithmetic overflow")]
    MathOverflow,
    #[msg("Token account or mint is not the protocol's stake mint/vault")]
    InvalidStakeTokenAccount,
    #[msg("Account does not match the one recorded in the config or request")]
    AccountMismatch, // 6060
    #[msg("Assign window has passed; the request can only expire")]
    AssignWindowClosed,
    #[msg("Operator's registry values may still be drawn (changed within the last assign window + 1 slots)")]
    RegistryChangePending,
    #[msg("Request cannot be disputed or escalated in its current status")]
    NotDisputable,
    #[msg("Dispute window has passed")]
    DisputeWindowClosed, // 6064
    #[msg("Request was already disputed or escalated (one dispute per request)")]
    AlreadyDisputed,
    #[msg("Dispute round is not in the phase this instruction needs")]
    DisputeNotOpen,
    #[msg("Dispute round still running; resolve later")]
    DisputeRoundRunning,
    #[msg("Dispute already resolved")]
    DisputeAlreadyResolved,
    #[msg("Dispute not resolved yet")]
    DisputeNotResolved, // 6069
    #[msg("Dispute rewards remain unclaimed")]
    DisputeRewardsUnclaimed,
    #[msg("Request has no pending callback")]
    CallbackNotPending,
    #[msg("Callback not deliverable yet (needs Finalized, dispute window over, output complete)")]
    CallbackNotReady,
    #[msg("Too many callback accounts")]
    TooManyCallbackAccounts,
    #[msg("Callback window still open")]
    CallbackWindowOpen, // 6074
    #[msg("Callback program does not match the request's, or is not executable")]
    WrongCallbackProgram,
    #[msg("Operator must stay slashable until its dispute window is over")]
    StakeLocked, // 6076
    #[msg("Stake may still be drawn by an assignable request at a weight the vault would no longer hold")]
    StakeStillDrawable,
    #[msg("Parameter cannot change after initialize_config")]
    ParameterImmutable,
    #[msg("Another majority member is writing the output; take over only after the hand-over grace")]
    OutputWriterBusy,
    #[msg("Result still needs this account (output not written or callback pending)")]
    ResultStillNeeded,
    #[msg("The request's Dispute account must be closed first")]
    DisputeNotClosed, // 6081
    #[msg("Model registration needs the config authority's approval")]
    ModelNotApproved,
    #[msg("Sampling out of range: temperature_milli ≤ 2000, top_p_milli 1..=1000")]
    InvalidSampling, // 6083
    #[msg("Prompt account length must be 1..=9216 bytes")]
    PromptLengthInvalid,
    #[msg("Prompt chunk must start where the written bytes end (no gap, no overlap)")]
    PromptChunkOutOfOrder, // 6085
    #[msg("Prompt chunk is empty or runs past the prompt's length")]
    PromptChunkOutOfRange,
    #[msg("Prompt account is attached to a request: read-only until the request is closed")]
    PromptAttached,
    #[msg("Prompt account is not completely written")]
    PromptIncomplete,
    #[msg("Prompt bytes or the request's prompt_hash do not match the Prompt account's hash")]
    PromptHashMismatch,
    #[msg("Prompt account missing, or not the request's")]
    WrongPromptAccount, // 6090
}
