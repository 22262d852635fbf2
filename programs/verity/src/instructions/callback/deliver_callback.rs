//! `deliver_callback` (anyone): once the result is final — Finalized, dispute window over (or a dispute
//! resolved), output complete — invokes the request's callback program with `on_result(winning_hash)`, signed by
//! the request's callback PDA ["callback", request], passing [callback PDA (signer), request, output, ≤ 4 extra accounts given as
//! remaining accounts], and records `Delivered`. A callback that fails makes only this transaction fail; after
//! the callback window `expire_callback` records `Failed`. Settlement and close never wait on it.
use {
    crate::{constants::*, errors::VerityError, events::CallbackDelivered, logic::sha256, state::*},
    anchor_lang::{
        prelude::*,
        solana_program::{
            instruction::{AccountMeta, Instruction},
            program::invoke_signed,
        },
    },
};

#[derive(Accounts)]
pub struct DeliverCallback<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(
        mut,
        seeds = [REQUEST_SEED, request.requester.as_ref(), &request.nonce.to_le_bytes()],
        bump = request.bump,
    )]
    pub request: Box<Account<'info, Request>>,
    #[account(seeds = [OUTPUT_SEED, request.key().as_ref()], bump = request.output_bump)]
    pub output: Box<Account<'info, Output>>,
    /// CHECK: the request's callback signer PDA (no data); signs the CPI. Per request, so a callback program cannot
    /// forward Verity's signature to another consumer for a request that is not its own.
    #[account(seeds = [CALLBACK_SEED, request.key().as_ref()], bump)]
    pub callback_authority: UncheckedAccount<'info>,
    /// CHECK: must be the request's callback program (checked in `validate`).
    pub callback_program: UncheckedAccount<'info>,
}

/// Instruction data of the callback: Anchor discriminator of `on_result` ‖ winning hash.
pub fn callback_data(winning_hash: &[u8; 32]) -> Vec<u8> {
    let mut data = Vec::with_capacity(40);
    data.extend_from_slice(sha256(CALLBACK_IX_NAME.as_bytes()).get(..8).unwrap_or(&[0; 8]));
    data.extend_from_slice(winning_hash);
    data
}

impl<'info> DeliverCallback<'info> {
    pub fn validate(&self, extra: usize) -> Result<()> {
        require!(self.request.callback_status == CallbackStatus::Pending, VerityError::CallbackNotPending);
        require!(
            self.request.callback_program == Some(self.callback_program.key()) && self.callback_program.executable,
            VerityError::WrongCallbackProgram
        );
        require!(extra <= MAX_CALLBACK_ACCOUNTS, VerityError::TooManyCallbackAccounts);
        Ok(())
    }

    pub fn handler(ctx: Context<'info, Self>) -> Result<()> {
        let extra = ctx.remaining_accounts;
        ctx.accounts.validate(extra.len())?;
        let a = &mut *ctx.accounts;
        let now = Clock::get()?.slot;
        let ready =
            a.request.status == RequestStatus::Finalized && a.request.rewards_unlocked(now) && a.output.complete;
        require!(ready, VerityError::CallbackNotReady);
        let mut metas = vec![
            AccountMeta::new_readonly(a.callback_authority.key(), true),
            AccountMeta::new_readonly(a.request.key(), false),
            AccountMeta::new_readonly(a.output.key(), false),
        ];
        let mut infos =
            vec![a.callback_authority.to_account_info(), a.request.to_account_info(), a.output.to_account_info()];
        for info in extra.iter().take(MAX_CALLBACK_ACCOUNTS) {
            metas.push(if info.is_writable {
                AccountMeta::new(*info.key, info.is_signer)
            } else {
                AccountMeta::new_readonly(*info.key, info.is_signer)
            });
            infos.push(info.clone());
        }
        infos.push(a.callback_program.to_account_info());
        let ix = Instruction {
            program_id: a.callback_program.key(),
            accounts: metas,
            data: callback_data(&a.request.winning_hash),
        };
        let bump = [ctx.bumps.callback_authority];
        let request_key = a.request.key();
        let seeds: &[&[u8]] = &[CALLBACK_SEED, request_key.as_ref(), &bump];
        invoke_signed(&ix, &infos, &[seeds])?;
        a.request.callback_status = CallbackStatus::Delivered;
        crate::emit_event!(CallbackDelivered {
            request: a.request.key(),
            program: a.callback_program.key(),
            winning_hash: a.request.winning_hash,
            status: a.request.callback_status,
        });
        Ok(())
    }
}
