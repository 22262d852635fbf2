//! `submit_request`: creates the Request (prompt inline, by hash + URI, or in the requester's complete `Prompt`
//! account, which it then attaches: read-only until `close_request`) and its Output account, and escrows the fee
//! (lamports) in the Request above its rent.
use {
    crate::{constants::*, errors::VerityError, events::RequestSubmitted, logic::sha256, state::*},
    anchor_lang::{
        prelude::*,
        system_program::{transfer, Transfer},
    },
};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct SubmitRequestArgs {
    /// Requester-chosen; PDA seed [`REQUEST_SEED`, requester, nonce LE].
    pub nonce: u64,
    /// Inline prompt (≤ model.max_input_bytes and ≤ [`MAX_PROMPT_BYTES`]); empty when `prompt_hash` +
    /// `prompt_uri` are given, or the prompt is in a `Prompt` account.
    pub prompt: Vec<u8>,
    /// With a URI: the prompt's sha256. With a `Prompt` account: must be `Some(prompt.hash)`.
    pub prompt_hash: Option<[u8; 32]>,
    pub prompt_uri: String,
    pub max_tokens: u32,
    /// Lamports; must be ≥ model.price_per_token × max_tokens.
    pub fee: u64,
    /// Bytes reserved in the Output account (1..=4096); the requester pays its rent.
    pub output_capacity: u32,
    /// Program `deliver_callback` invokes with the result (`on_result`), once final.
    pub callback_program: Option<Pubkey>,
    /// Temperature, top-p and seed ([`Sampling::GREEDY`] for greedy decoding).
    pub sampling: Sampling,
}

impl SubmitRequestArgs {
    /// Checks the arguments against the model and the `Prompt` account, if one is given (then `prompt` and
    /// `prompt_uri` must be empty: `PromptAmbiguous`); returns the prompt hash.
    pub fn check(&self, model: &Model, prompt_account: Option<&Prompt>) -> Result<[u8; 32]> {
        require!(model.active, VerityError::ModelInactive);
        let inline = !self.prompt.is_empty();
        let external = self.prompt_hash.is_some() || !self.prompt_uri.is_empty();
        let prompt_hash = if let Some(p) = prompt_account {
            require!(!inline && self.prompt_uri.is_empty(), VerityError::PromptAmbiguous);
            p.check_usable(self.prompt_hash, model.max_input_bytes)?
        } else if inline {
            require!(!external, VerityError::PromptAmbiguous);
            let limit = model.max_input_bytes.min(MAX_PROMPT_BYTES);
            require!(self.prompt.len() <= limit as usize, VerityError::PromptTooLarge);
            sha256(&self.prompt)
        } else {
            require!(self.prompt_uri.len() <= MAX_URI_LEN, VerityError::UriTooLong);
            match self.prompt_hash {
                Some(h) if !self.prompt_uri.is_empty() => h,
                _ => return err!(VerityError::PromptMissing),
            }
        };
        require!(self.max_tokens > 0, VerityError::MaxTokensZero);
        require!(self.max_tokens <= model.max_output_tokens, VerityError::MaxTokensAboveModelLimit);
        let min_fee = model.price_per_token.checked_mul(u64::from(self.max_tokens)).ok_or(VerityError::MathOverflow)?;
        require!(self.fee >= min_fee, VerityError::FeeTooLow);
        require!(
            self.output_capacity >= 1 && self.output_capacity <= MAX_OUTPUT_BYTES,
            VerityError::InvalidOutputCapacity
        );
        self.sampling.check()?;
        Ok(prompt_hash)
    }
}

#[derive(Accounts)]
#[instruction(args: SubmitRequestArgs)]
pub struct SubmitRequest<'info> {
    #[account(mut)]
    pub requester: Signer<'info>,
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [MODEL_SEED, &model.model_id.to_le_bytes()], bump = model.bump)]
    pub model: Box<Account<'info, Model>>,
    #[account(
        init,
        payer = requester,
        space = Request::space(
            args.prompt.len().min(MAX_PROMPT_BYTES as usize),
            args.prompt_uri.len().min(MAX_URI_LEN),
            config.params.committee_size,
        ),
        seeds = [REQUEST_SEED, requester.key().as_ref(), &args.nonce.to_le_bytes()],
        bump,
    )]
    pub request: Box<Account<'info, Request>>,
    #[account(
        init,
        payer = requester,
        space = Output::space(args.output_capacity.min(MAX_OUTPUT_BYTES)),
        seeds = [OUTPUT_SEED, request.key().as_ref()],
        bump,
    )]
    pub output: Box<Account<'info, Output>>,
    pub system_program: Program<'info, System>,
    /// Optional: the requester's complete `Prompt` holding the prompt (attached to this request).
    #[account(
        mut,
        seeds = [PROMPT_SEED, prompt.owner.as_ref(), &prompt.nonce.to_le_bytes()],
        bump = prompt.bump,
        constraint = prompt.owner == requester.key() @ VerityError::Unauthorized,
    )]
    pub prompt: Option<Box<Account<'info, Prompt>>>,
}

impl SubmitRequest<'_> {
    pub fn validate(&self) -> Result<()> {
        self.config.require_not_paused()
    }

    pub fn handler(ctx: Context<Self>, args: SubmitRequestArgs) -> Result<()> {
        let a = &mut *ctx.accounts;
        let prompt_hash = args.check(&a.model, a.prompt.as_deref().map(|p| &**p))?;
        let now = Clock::get()?.slot;
        let request_key = a.request.key();
        let prompt_account = match a.prompt.as_mut() {
            Some(p) => {
                p.attach(request_key)?;
                Some(p.key())
            }
            None => None,
        };
        a.request.set_inner(Request {
            requester: a.requester.key(),
            nonce: args.nonce,
            model: a.model.key(),
            model_owner: a.model.owner,
            model_index: a.model.index,
            profile_hash: a.model.profile_hash,
            price_per_token: a.model.price_per_token,
            royalty_bps: a.model.royalty_bps,
            param_count: a.model.param_count,
            protocol_fee_bps: a.config.params.protocol_fee_bps,
            prompt: args.prompt.clone(),
            prompt_hash,
            prompt_uri: args.prompt_uri.clone(),
            max_tokens: args.max_tokens,
            output_capacity: args.output_capacity,
            fee: args.fee,
            callback_program: args.callback_program,
            status: RequestStatus::Pending,
            round: 0,
            committee_size: a.config.params.committee_size,
            submit_slot: now,
            finalized_slot: 0,
            committee: Round::default(),
            winning_hash: [0; 32],
            receipt: ComputeReceipt::default(),
            royalty_paid: 0,
            protocol_fee_paid: 0,
            rewards_total: 0,
            rewards_claimed: 0,
            bump: ctx.bumps.request,
            output_bump: ctx.bumps.output,
            dispute_paid: 0,
            terms: a.config.params.terms(),
            sampling: args.sampling,
            prompt_account,
            callback_status: if args.callback_program.is_some() {
                CallbackStatus::Pending
            } else {
                CallbackStatus::None
            },
        });
        a.output.set_inner(Output {
            request: request_key,
            capacity: args.output_capacity,
            total_len: 0,
            complete: false,
            last_writer: Pubkey::default(),
            last_write_slot: 0,
            bump: ctx.bumps.output,
            data: Vec::new(),
        });
        a.config.request_count = a.config.request_count.checked_add(1).ok_or(VerityError::MathOverflow)?;
        a.model.request_count = a.model.request_count.checked_add(1).ok_or(VerityError::MathOverflow)?;
        if args.fee > 0 {
            let cpi = Transfer { from: a.requester.to_account_info(), to: a.request.to_account_info() };
            transfer(CpiContext::new(a.system_program.key(), cpi), args.fee)?;
        }
        crate::emit_event!(RequestSubmitted {
            request: request_key,
            requester: a.requester.key(),
            model: a.model.key(),
            nonce: args.nonce,
            fee: args.fee,
            max_tokens: args.max_tokens,
            prompt_hash,
            submit_slot: now,
            sampling: args.sampling,
            prompt_account,
        });
        Ok(())
    }
}
