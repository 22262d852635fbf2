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
    #[access_control(ctx.accounts.validate())]
    pub fn initialize_config(ctx: Context<InitializeConfig>, params: ConfigParams) -> Result<()> {
        InitializeConfig::handler(ctx, params)
    }
    pub fn update_config(ctx: Context<UpdateConfig>, params: ConfigParams) -> Result<()> {
        UpdateConfig::handler(ctx, params)
    }
    pub fn set_paused(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
        SetPaused::handler(ctx, paused)
    }

    // ── models ──
    #[access_control(ctx.accounts.validate())]
    pub fn register_model(ctx: Context<RegisterModel>, model_id: u64, params: ModelParams) -> Result<()> {
        RegisterModel::handler(ctx, model_id, params)
    }
    pub fn update_model(ctx: Context<UpdateModel>, params: ModelParams) -> Result<()> {
        UpdateModel::handler(ctx, params)
    }
    pub fn deactivate_model(ctx: Context<DeactivateModel>) -> Result<()> {
        DeactivateModel::handler(ctx)
    }

    // ── operators ──
    #[access_control(ctx.accounts.validate(served_models))]
    pub fn register_operator(ctx: Context<RegisterOperator>, served_models: u64) -> Result<()> {
        RegisterOperator::handler(ctx, served_models)
    }
    #[access_control(ctx.accounts.validate())]
    pub fn stake(ctx: Context<Stake>, amount: u64) -> Result<()> {
        Stake::handler(ctx, amount)
    }
    pub fn request_unstake(ctx: Context<RequestUnstake>, amount: u64) -> Result<()> {
        RequestUnstake::handler(ctx, amount)
    }
    pub fn withdraw_stake(ctx: Context<WithdrawStake>) -> Result<()> {
        WithdrawStake::handler(ctx)
    }
    pub fn set_served_models(ctx: Context<SetServedModels>, served_models: u64) -> Result<()> {
        SetServedModels::handler(ctx, served_models)
    }
    pub fn deregister_operator(ctx: Context<DeregisterOperator>) -> Result<()> {
        DeregisterOperator::handler(ctx)
    }

    // ── requests ──
    #[access_control(ctx.accounts.validate())]
    pub fn submit_request(ctx: Context<SubmitRequest>, args: SubmitRequestArgs) -> Result<()> {
        SubmitRequest::handler(ctx, args)
    }
    pub fn assign_committee(ctx: Context<AssignCommittee>) -> Result<()> {
        AssignCommittee::handler(ctx)
    }
    pub fn commit_result(ctx: Context<CommitResult>, commitment: [u8; 32]) -> Result<()> {
        CommitResult::handler(ctx, commitment)
    }
    pub fn reveal_result(ctx: Context<RevealResult>, args: RevealArgs) -> Result<()> {
        RevealResult::handler(ctx, args)
    }
    pub fn finalize_request<'info>(ctx: Context<'info, FinalizeRequest<'info>>) -> Result<()> {
        FinalizeRequest::handler(ctx)
    }
    pub fn write_output(ctx: Context<WriteOutput>, args: WriteOutputArgs) -> Result<()> {
        WriteOutput::handler(ctx, args)
    }
    pub fn expire_request(ctx: Context<ExpireRequest>) -> Result<()> {
        ExpireRequest::handler(ctx)
    }
    pub fn claim_reward(ctx: Context<ClaimReward>) -> Result<()> {
        ClaimReward::handler(ctx)
    }
    pub fn close_request(ctx: Context<CloseRequest>) -> Result<()> {
        CloseRequest::handler(ctx)
    }

    // ── disputes and escalations ──
    #[access_control(ctx.accounts.validate())]
    pub fn open_dispute(ctx: Context<OpenDispute>) -> Result<()> {
        OpenDispute::handler(ctx)
    }
    pub fn assign_dispute(ctx: Context<AssignDispute>) -> Result<()> {
        AssignDispute::handler(ctx)
    }
    pub fn commit_dispute(ctx: Context<CommitDispute>, commitment: [u8; 32]) -> Result<()> {
        CommitDispute::handler(ctx, commitment)
    }
    pub fn reveal_dispute(ctx: Context<RevealDispute>, args: RevealArgs) -> Result<()> {
        RevealDispute::handler(ctx, args)
    }
    pub fn resolve_dispute<'info>(ctx: Context<'info, ResolveDispute<'info>>) -> Result<()> {
        ResolveDispute::handler(ctx)
    }
    pub fn claim_dispute_reward(ctx: Context<ClaimDisputeReward>) -> Result<()> {
        ClaimDisputeReward::handler(ctx)
    }
    #[access_control(ctx.accounts.validate())]
    pub fn close_dispute(ctx: Context<CloseDispute>) -> Result<()> {
        CloseDispute::handler(ctx)
    }

    // ── callback ──
    pub fn deliver_callback<'info>(ctx: Context<'info, DeliverCallback<'info>>) -> Result<()> {
        DeliverCallback::handler(ctx)
    }
    pub fn expire_callback(ctx: Context<ExpireCallback>) -> Result<()> {
        ExpireCallback::handler(ctx)
    }
}
