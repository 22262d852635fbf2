//! Verity: verifiable AI inference on Solana. This file only dispatches; see `instructions/` for handlers,
//! `state/` for accounts and their transitions, `logic/` for hashing, the draw and settlement math, and
//! docs/PROTOCOL.md for the protocol.
#![allow(clippy::result_large_err)]

pub mod constants;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod logic;
pub mod state;

use anchor_lang::prelude::*;
pub use {constants::*, errors::VerityError, events::*, instructions::*, state::*};

declare_id!("3xSXJgkiyCPtC9bg2dz1Mn8ZtZuVi5e8mKt6eSfhELKx");

#[program]
pub mod verity {
    use super::*;

    // ── config ──
    /// Creates the Config, the operator registry and the stake vault; the signer becomes the authority.
    #[access_control(ctx.accounts.validate())]
    pub fn initialize_config(ctx: Context<InitializeConfig>, params: ConfigParams) -> Result<()> {
        InitializeConfig::handler(ctx, params)
    }
    /// Replaces the parameters and treasury accounts (config authority); requests keep their submitted terms.
    pub fn update_config(ctx: Context<UpdateConfig>, params: ConfigParams) -> Result<()> {
        UpdateConfig::handler(ctx, params)
    }
    /// Pauses or resumes new business: submit, model and operator registration, stake (config authority).
    pub fn set_paused(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
        SetPaused::handler(ctx, paused)
    }

    // ── models ──
    /// Registers a model (its owner, approved by the config authority): profile hash, price, royalty.
    #[access_control(ctx.accounts.validate())]
    pub fn register_model(ctx: Context<RegisterModel>, model_id: u64, params: ModelParams) -> Result<()> {
        RegisterModel::handler(ctx, model_id, params)
    }
    /// Replaces a model's name, profile hash, price, limits and royalty (its owner); open requests keep theirs.
    pub fn update_model(ctx: Context<UpdateModel>, params: ModelParams) -> Result<()> {
        UpdateModel::handler(ctx, params)
    }
    /// Stops new requests for a model, for good (its owner); in-flight requests complete.
    pub fn deactivate_model(ctx: Context<DeactivateModel>) -> Result<()> {
        DeactivateModel::handler(ctx)
    }

    // ── operators ──
    /// Creates the signer's Operator account, serving the given models, and its registry entry.
    #[access_control(ctx.accounts.validate(served_models))]
    pub fn register_operator(ctx: Context<RegisterOperator>, served_models: u64) -> Result<()> {
        RegisterOperator::handler(ctx, served_models)
    }
    /// Adds stake tokens to an operator (its authority) from a token account into the vault.
    #[access_control(ctx.accounts.validate())]
    pub fn stake(ctx: Context<Stake>, amount: u64) -> Result<()> {
        Stake::handler(ctx, amount)
    }
    /// Moves stake to unbonding (its authority); it stays slashable until `unbonding_slots` pass.
    pub fn request_unstake(ctx: Context<RequestUnstake>, amount: u64) -> Result<()> {
        RequestUnstake::handler(ctx, amount)
    }
    /// Pays unbonded stake out of the vault (its authority), once no lock holds it.
    pub fn withdraw_stake(ctx: Context<WithdrawStake>) -> Result<()> {
        WithdrawStake::handler(ctx)
    }
    /// Declares the model indices an operator serves (its authority; u64 bitmap).
    pub fn set_served_models(ctx: Context<SetServedModels>, served_models: u64) -> Result<()> {
        SetServedModels::handler(ctx, served_models)
    }
    /// Closes an operator with no stake and no open assignment, and its registry entry (its authority).
    pub fn deregister_operator(ctx: Context<DeregisterOperator>) -> Result<()> {
        DeregisterOperator::handler(ctx)
    }

    // ── long prompts ──
    /// Creates the signer's empty Prompt account for a `len`-byte prompt declared to hash to `hash`.
    pub fn create_prompt(ctx: Context<CreatePrompt>, nonce: u64, len: u32, hash: [u8; 32]) -> Result<()> {
        CreatePrompt::handler(ctx, nonce, len, hash)
    }
    /// Appends a chunk to a Prompt (its owner): at `offset` = bytes written so far, while no request uses it.
    pub fn write_prompt(ctx: Context<WritePrompt>, offset: u32, data: Vec<u8>) -> Result<()> {
        WritePrompt::handler(ctx, offset, data)
    }
    /// Closes a Prompt no request uses (its owner); rent back to the owner.
    pub fn close_prompt(ctx: Context<ClosePrompt>) -> Result<()> {
        ClosePrompt::handler(ctx)
    }

    // ── requests ──
    /// Submits a prompt (inline, by hash + URI, or in a complete Prompt account) with its fee (escrowed) and
    /// reserves the Output account.
    #[access_control(ctx.accounts.validate())]
    pub fn submit_request(ctx: Context<SubmitRequest>, args: SubmitRequestArgs) -> Result<()> {
        SubmitRequest::handler(ctx, args)
    }
    /// Draws the stake-weighted committee of a Pending request (anyone).
    pub fn assign_committee(ctx: Context<AssignCommittee>) -> Result<()> {
        AssignCommittee::handler(ctx)
    }
    /// Commits a member's hidden result: sha256 of request, operator, output hash and salt.
    pub fn commit_result(ctx: Context<CommitResult>, commitment: [u8; 32]) -> Result<()> {
        CommitResult::handler(ctx, commitment)
    }
    /// Reveals a member's output hash and salt (checked against its commitment) with its token counts.
    pub fn reveal_result(ctx: Context<RevealResult>, args: RevealArgs) -> Result<()> {
        RevealResult::handler(ctx, args)
    }
    /// Reveals like `reveal_result`; when it is the round's last reveal, also finalizes the request and, if this
    /// member agreed, stores `output` (the whole answer, hash-checked) in the Output account.
    pub fn reveal_and_finalize<'info>(
        ctx: Context<'info, RevealAndFinalize<'info>>,
        args: RevealArgs,
        output: Vec<u8>,
    ) -> Result<()> {
        RevealAndFinalize::handler(ctx, args, output)
    }
    /// Settles the first round (anyone, reveal phase over): pays the majority, slashes, or escalates.
    pub fn finalize_request<'info>(ctx: Context<'info, FinalizeRequest<'info>>) -> Result<()> {
        FinalizeRequest::handler(ctx)
    }
    /// Writes a chunk of the winning output (a majority member); the last chunk is hash-checked.
    pub fn write_output(ctx: Context<WriteOutput>, args: WriteOutputArgs) -> Result<()> {
        WriteOutput::handler(ctx, args)
    }
    /// Refunds a request nobody assigned (or an escalation nobody opened) in time (anyone).
    pub fn expire_request(ctx: Context<ExpireRequest>) -> Result<()> {
        ExpireRequest::handler(ctx)
    }
    /// Pays a majority member's reward to its authority once the dispute window is over (anyone).
    pub fn claim_reward(ctx: Context<ClaimReward>) -> Result<()> {
        ClaimReward::handler(ctx)
    }
    /// Closes a settled request (rewards claimed, Dispute closed), its Output and its Prompt, if any; rents back to
    /// the requester.
    #[access_control(ctx.accounts.validate())]
    pub fn close_request(ctx: Context<CloseRequest>) -> Result<()> {
        CloseRequest::handler(ctx)
    }

    // ── disputes and escalations ──
    /// Opens the 2k+1 second round: a bonded challenge of a Finalized result, or an Escalated one.
    #[access_control(ctx.accounts.validate())]
    pub fn open_dispute(ctx: Context<OpenDispute>) -> Result<()> {
        OpenDispute::handler(ctx)
    }
    /// Draws the second round's committee (anyone).
    pub fn assign_dispute(ctx: Context<AssignDispute>) -> Result<()> {
        AssignDispute::handler(ctx)
    }
    /// Commits a second-round member's hidden result.
    pub fn commit_dispute(ctx: Context<CommitDispute>, commitment: [u8; 32]) -> Result<()> {
        CommitDispute::handler(ctx, commitment)
    }
    /// Reveals a second-round member's output hash and salt.
    pub fn reveal_dispute(ctx: Context<RevealDispute>, args: RevealArgs) -> Result<()> {
        RevealDispute::handler(ctx, args)
    }
    /// Settles the second round (anyone): upholds, overturns or decides the result, pays and slashes.
    pub fn resolve_dispute<'info>(ctx: Context<'info, ResolveDispute<'info>>) -> Result<()> {
        ResolveDispute::handler(ctx)
    }
    /// Pays a second-round majority member's reward to its authority (anyone).
    pub fn claim_dispute_reward(ctx: Context<ClaimDisputeReward>) -> Result<()> {
        ClaimDisputeReward::handler(ctx)
    }
    /// Closes a resolved Dispute account once its rewards are claimed; rent back to its opener.
    #[access_control(ctx.accounts.validate())]
    pub fn close_dispute(ctx: Context<CloseDispute>) -> Result<()> {
        CloseDispute::handler(ctx)
    }

    // ── callback ──
    /// Delivers the result to the request's callback program by CPI (anyone; retryable).
    pub fn deliver_callback<'info>(ctx: Context<'info, DeliverCallback<'info>>) -> Result<()> {
        DeliverCallback::handler(ctx)
    }
    /// Records a callback that can no longer be delivered as Failed (anyone).
    pub fn expire_callback(ctx: Context<ExpireCallback>) -> Result<()> {
        ExpireCallback::handler(ctx)
    }
}
