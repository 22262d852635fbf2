//! `verity_consumer`: a minimal agent program on top of Verity. `ask` submits an inference request to Verity by
//! CPI with the agent's PDA as the requester (the user funds fee and rents); Verity's `deliver_callback` later
//! invokes `on_result`, which checks that the call comes from Verity (its callback PDA signed), that the request is
//! this agent's and final, and that the output bytes hash to the winning hash, then stores the answer. `reclaim`
//! closes the finished Verity request by CPI and returns every rent to the asker.
#![allow(clippy::result_large_err)]

use {
    anchor_lang::{
        prelude::*,
        solana_program::{instruction::Instruction, program::invoke_signed},
        system_program::{transfer, Transfer},
        InstructionData, ToAccountMetas,
    },
    verity::{Output as VerityOutput, Request as VerityRequest, RequestStatus, Sampling, SubmitRequestArgs},
};

declare_id!("2DaVXq7W2F3mBtHmsKxBKyzNBGy1VQJhDuRyVMsYrvW7");

/// Seed of the agent PDA: the Verity requester (system-owned, no data; holds only transient lamports).
pub const AGENT_SEED: &[u8] = b"agent";
/// Seed prefix of `Answer` PDAs: [`ANSWER_SEED`, verity request].
pub const ANSWER_SEED: &[u8] = b"answer";
/// Largest answer the agent stores (and output capacity it asks for).
pub const MAX_ANSWER_BYTES: u32 = 512;

#[program]
pub mod verity_consumer {
    use super::*;

    /// Requests inference on Verity model `model` for `prompt` (nonce chosen by the caller); the user pays the fee
    /// and both Verity rents (refunded to the agent PDA when the request is closed).
    pub fn ask(
        ctx: Context<Ask>,
        nonce: u64,
        prompt: Vec<u8>,
        max_tokens: u32,
        fee: u64,
        output_capacity: u32,
    ) -> Result<()> {
        Ask::handler(ctx, nonce, prompt, max_tokens, fee, output_capacity)
    }

    /// The callback Verity's `deliver_callback` invokes (discriminator sha256("global:on_result")[..8]).
    pub fn on_result(ctx: Context<OnResult>, winning_hash: [u8; 32]) -> Result<()> {
        OnResult::handler(ctx, winning_hash)
    }

    /// Once Verity lets the request close: closes it by CPI (the agent is its requester) and returns the rents
    /// it gets back, and the Answer account's, to the asker.
    pub fn reclaim(ctx: Context<Reclaim>) -> Result<()> {
        Reclaim::handler(ctx)
    }
}

#[error_code]
pub enum ConsumerError {
    #[msg("Output capacity above what the agent stores")]
    AnswerTooLong, // 6000
    #[msg("Callback not signed by Verity's callback PDA")]
    NotVerity,
    #[msg("Request or output is not this agent's Verity request")]
    WrongRequest,
    #[msg("Request is not finalized with a complete output")]
    NotFinal,
    #[msg("Output bytes do not hash to the winning hash")]
    HashMismatch,
    #[msg("Answer already stored")]
    AlreadyAnswered, // 6005
}

#[account]
#[derive(InitSpace, Debug)]
pub struct Answer {
    pub asker: Pubkey,
    /// The Verity request.
    pub request: Pubkey,
    pub answered: bool,
    pub winning_hash: [u8; 32],
    #[max_len(MAX_ANSWER_BYTES)]
    pub data: Vec<u8>,
    pub bump: u8,
}

#[derive(Accounts)]
#[instruction(nonce: u64)]
pub struct Ask<'info> {
    #[account(mut)]
    pub user: Signer<'info>,
    /// CHECK: the agent PDA (system account, no data): Verity's requester; signs the CPI.
    #[account(mut, seeds = [AGENT_SEED], bump)]
    pub agent: UncheckedAccount<'info>,
    #[account(
        init,
        payer = user,
        space = 8 + Answer::INIT_SPACE,
        seeds = [ANSWER_SEED, request.key().as_ref()],
        bump,
    )]
    pub answer: Box<Account<'info, Answer>>,
    /// Verity's Config (read here for k; Verity checks its seeds).
    #[account(mut)]
    pub verity_config: Box<Account<'info, verity::Config>>,
    /// CHECK: the Verity Model account (Verity checks it).
    #[account(mut)]
    pub model: UncheckedAccount<'info>,
    /// CHECK: Verity creates it: ["request", agent, nonce] under the Verity program.
    #[account(
        mut,
        seeds = [verity::REQUEST_SEED, agent.key().as_ref(), &nonce.to_le_bytes()],
        bump,
        seeds::program = verity::ID,
    )]
    pub request: UncheckedAccount<'info>,
    /// CHECK: Verity creates it: ["output", request] under the Verity program.
    #[account(mut)]
    pub output: UncheckedAccount<'info>,
    /// CHECK: the Verity program.
    #[account(address = verity::ID)]
    pub verity_program: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl Ask<'_> {
    pub fn handler(
        ctx: Context<Self>,
        nonce: u64,
        prompt: Vec<u8>,
        max_tokens: u32,
        fee: u64,
        output_capacity: u32,
    ) -> Result<()> {
        let a = &mut *ctx.accounts;
        require!(output_capacity <= MAX_ANSWER_BYTES, ConsumerError::AnswerTooLong);
        // Fund the agent with exactly what Verity takes: the fee and the rents of Request and Output.
        let rent = Rent::get()?;
        let k = a.verity_config.params.committee_size;
        let request_space = VerityRequest::space(prompt.len(), 0, k);
        let output_space = VerityOutput::space(output_capacity);
        let need = fee
            .checked_add(rent.minimum_balance(request_space))
            .and_then(|x| x.checked_add(rent.minimum_balance(output_space)))
            .ok_or(ProgramError::ArithmeticOverflow)?;
        let cpi = Transfer { from: a.user.to_account_info(), to: a.agent.to_account_info() };
        transfer(CpiContext::new(a.system_program.key(), cpi), need)?;
        let args = SubmitRequestArgs {
            nonce,
            prompt,
            prompt_hash: None,
            prompt_uri: String::new(),
            max_tokens,
            fee,
            output_capacity,
            callback_program: Some(crate::ID),
            sampling: Sampling::GREEDY,
        };
        let accounts = verity::accounts::SubmitRequest {
            requester: a.agent.key(),
            config: a.verity_config.key(),
            model: a.model.key(),
            request: a.request.key(),
            output: a.output.key(),
            system_program: a.system_program.key(),
            prompt: None,
        };
        let ix = Instruction {
            program_id: verity::ID,
            accounts: accounts.to_account_metas(None),
            data: verity::instruction::SubmitRequest { args }.data(),
        };
        let infos = [
            a.agent.to_account_info(),
            a.verity_config.to_account_info(),
            a.model.to_account_info(),
            a.request.to_account_info(),
            a.output.to_account_info(),
            a.system_program.to_account_info(),
            a.verity_program.to_account_info(),
        ];
        let bump = [ctx.bumps.agent];
        invoke_signed(&ix, &infos, &[&[AGENT_SEED, &bump]])?;
        a.answer.set_inner(Answer {
            asker: a.user.key(),
            request: a.request.key(),
            answered: false,
            winning_hash: [0; 32],
            data: Vec::new(),
            bump: ctx.bumps.answer,
        });
        Ok(())
    }
}

#[derive(Accounts)]
pub struct OnResult<'info> {
    /// Verity's callback PDA for this request: only the Verity program can sign for it.
    pub callback_authority: Signer<'info>,
    /// CHECK: a Verity Request (owner and contents checked in the handler).
    pub request: UncheckedAccount<'info>,
    /// CHECK: its Verity Output (checked in the handler).
    pub output: UncheckedAccount<'info>,
    #[account(mut, seeds = [ANSWER_SEED, request.key().as_ref()], bump = answer.bump)]
    pub answer: Box<Account<'info, Answer>>,
}

impl OnResult<'_> {
    pub fn handler(ctx: Context<Self>, winning_hash: [u8; 32]) -> Result<()> {
        let a = &mut *ctx.accounts;
        // Verity signs with the per-request PDA ["callback", request]: nobody else can, and a signature given for
        // another request (forwarded by another callback program) does not match.
        let (callback_pda, _) =
            Pubkey::find_program_address(&[verity::CALLBACK_SEED, a.request.key().as_ref()], &verity::ID);
        require_keys_eq!(a.callback_authority.key(), callback_pda, ConsumerError::NotVerity);
        require!(!a.answer.answered, ConsumerError::AlreadyAnswered);
        // Owned by Verity, with the Request discriminator.
        require_keys_eq!(*a.request.owner, verity::ID, ConsumerError::WrongRequest);
        let request = {
            let data = a.request.try_borrow_data()?;
            VerityRequest::try_deserialize(&mut &data[..]).map_err(|_| error!(ConsumerError::WrongRequest))?
        };
        let (agent, _) = Pubkey::find_program_address(&[AGENT_SEED], &crate::ID);
        require_keys_eq!(request.requester, agent, ConsumerError::WrongRequest);
        let (output_pda, _) =
            Pubkey::find_program_address(&[verity::OUTPUT_SEED, a.request.key().as_ref()], &verity::ID);
        require_keys_eq!(a.output.key(), output_pda, ConsumerError::WrongRequest);
        require_keys_eq!(*a.output.owner, verity::ID, ConsumerError::WrongRequest);
        let output = {
            let data = a.output.try_borrow_data()?;
            VerityOutput::try_deserialize(&mut &data[..]).map_err(|_| error!(ConsumerError::WrongRequest))?
        };
        require!(request.status == RequestStatus::Finalized && output.complete, ConsumerError::NotFinal);
        require!(request.winning_hash == winning_hash, ConsumerError::HashMismatch);
        let hash = verity::logic::output_hash(&request.profile_hash, &output.data);
        require!(hash == winning_hash, ConsumerError::HashMismatch);
        require!(output.data.len() <= MAX_ANSWER_BYTES as usize, ConsumerError::AnswerTooLong);
        a.answer.answered = true;
        a.answer.winning_hash = winning_hash;
        a.answer.data = output.data;
        Ok(())
    }
}

#[derive(Accounts)]
pub struct Reclaim<'info> {
    #[account(mut)]
    pub asker: Signer<'info>,
    /// CHECK: the agent PDA (Verity's requester); signs the CPI and forwards the returned rent.
    #[account(mut, seeds = [AGENT_SEED], bump)]
    pub agent: UncheckedAccount<'info>,
    #[account(
        mut,
        close = asker,
        seeds = [ANSWER_SEED, request.key().as_ref()],
        bump = answer.bump,
        has_one = asker @ ConsumerError::WrongRequest,
        has_one = request @ ConsumerError::WrongRequest,
    )]
    pub answer: Box<Account<'info, Answer>>,
    /// CHECK: Verity's Config (Verity checks it).
    pub verity_config: UncheckedAccount<'info>,
    /// CHECK: the Verity Request (Verity checks it and that the agent is its requester).
    #[account(mut)]
    pub request: UncheckedAccount<'info>,
    /// CHECK: its Verity Output (Verity checks it).
    #[account(mut)]
    pub output: UncheckedAccount<'info>,
    /// CHECK: its Verity Dispute PDA, which must be closed (Verity checks it).
    pub dispute: UncheckedAccount<'info>,
    /// CHECK: the Verity program.
    #[account(address = verity::ID)]
    pub verity_program: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl Reclaim<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let a = &mut *ctx.accounts;
        // An expired or no-consensus request refunded its whole fee to the agent before this close: forward it
        // too, so nothing of this ask stays in the agent PDA.
        let refunded = {
            require_keys_eq!(*a.request.owner, verity::ID, ConsumerError::WrongRequest);
            let data = a.request.try_borrow_data()?;
            let request =
                VerityRequest::try_deserialize(&mut &data[..]).map_err(|_| error!(ConsumerError::WrongRequest))?;
            match request.status {
                RequestStatus::Expired | RequestStatus::NoConsensus => request.fee,
                _ => 0,
            }
        };
        let before = a.agent.lamports();
        let accounts = verity::accounts::CloseRequest {
            requester: a.agent.key(),
            config: a.verity_config.key(),
            request: a.request.key(),
            output: a.output.key(),
            dispute: a.dispute.key(),
            prompt: None,
        };
        let ix = Instruction {
            program_id: verity::ID,
            accounts: accounts.to_account_metas(None),
            data: verity::instruction::CloseRequest {}.data(),
        };
        let infos = [
            a.agent.to_account_info(),
            a.verity_config.to_account_info(),
            a.request.to_account_info(),
            a.output.to_account_info(),
            a.dispute.to_account_info(),
            a.verity_program.to_account_info(),
        ];
        let bump = [ctx.bumps.agent];
        let seeds: &[&[u8]] = &[AGENT_SEED, &bump];
        invoke_signed(&ix, &infos, &[seeds])?;
        let returned = a
            .agent
            .lamports()
            .checked_sub(before)
            .and_then(|r| r.checked_add(refunded))
            .ok_or(ProgramError::ArithmeticOverflow)?;
        if returned > 0 {
            let cpi = Transfer { from: a.agent.to_account_info(), to: a.asker.to_account_info() };
            transfer(CpiContext::new_with_signer(a.system_program.key(), cpi, &[seeds]), returned)?;
        }
        Ok(())
    }
}
