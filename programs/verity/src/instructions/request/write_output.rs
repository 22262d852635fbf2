//! `write_output` (a majority member, after finalize): writes a chunk of the winning output into the Output
//! account; the write that reaches `total_len` must make the bytes hash to the winning hash. When the result was
//! decided by a dispute/escalation round, its majority members write, passing the Dispute PDA as the one
//! (optional) remaining account.
use {
    crate::{constants::*, errors::VerityError, events::OutputWritten, state::*},
    anchor_lang::prelude::*,
};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct WriteOutputArgs {
    /// Byte offset of this chunk; ≤ bytes written so far.
    pub offset: u32,
    /// Total output length in bytes (≤ the Output capacity).
    pub total_len: u32,
    pub data: Vec<u8>,
}

#[derive(Accounts)]
pub struct WriteOutput<'info> {
    /// A committee member whose revealed hash won.
    pub writer: Signer<'info>,
    #[account(
        seeds = [REQUEST_SEED, request.requester.as_ref(), &request.nonce.to_le_bytes()],
        bump = request.bump,
    )]
    pub request: Box<Account<'info, Request>>,
    #[account(mut, seeds = [OUTPUT_SEED, request.key().as_ref()], bump = request.output_bump)]
    pub output: Box<Account<'info, Output>>,
}

impl WriteOutput<'_> {
    pub fn handler(ctx: Context<Self>, args: WriteOutputArgs) -> Result<()> {
        let a = &mut *ctx.accounts;
        require!(a.request.status == RequestStatus::Finalized, VerityError::RequestNotFinalized);
        let first = a.request.committee.members.iter().find(|m| m.operator == a.writer.key()).map(|m| m.outcome);
        let allowed = match (first, ctx.remaining_accounts.first()) {
            (Some(Outcome::Agreed), _) => true,
            (_, Some(info)) => {
                let (pda, _) = Pubkey::find_program_address(&[DISPUTE_SEED, a.request.key().as_ref()], &crate::ID);
                require_keys_eq!(*info.key, pda, VerityError::AccountMismatch);
                let dispute = Account::<Dispute>::try_from(info)?;
                dispute.is_majority_writer(a.writer.key, &a.request.winning_hash)
            }
            (None, None) => return err!(VerityError::NotCommitteeMember),
            (Some(_), None) => false,
        };
        require!(allowed, VerityError::NotMajorityMember);
        a.output.write(
            a.writer.key,
            Clock::get()?.slot,
            args.offset,
            args.total_len,
            &args.data,
            &a.request.profile_hash,
            &a.request.winning_hash,
        )?;
        log_written(a.request.key(), a.writer.key(), &a.output);
        Ok(())
    }
}

/// Logs `OutputWritten` for `output` of `request` after a write by `writer` (its post-state).
pub fn log_written(request: Pubkey, writer: Pubkey, output: &Output) {
    crate::emit_event!(OutputWritten {
        request,
        writer,
        written: u32::try_from(output.data.len()).unwrap_or(u32::MAX),
        total_len: output.total_len,
        complete: output.complete,
    });
}
