//! `reveal_and_finalize` (committee member that committed): `reveal_result`, and when that reveal is the last
//! one the round waits for, `finalize_request` in the same instruction; if the request is then Finalized and this
//! member agreed, `output` (the whole answer, when it fits one transaction) is stored in the Output account with
//! the hash check of `write_output`. Output bytes that are empty, too large, already there or not hashing to the
//! winning hash are not stored (a later `write_output` does it); the reveal and the settlement stand.
//! Remaining accounts: as `finalize_request` (every member's Operator PDA, writable, committee order).
use {
    super::write_output::log_written,
    crate::{
        constants::*,
        instructions::round::{self, *},
        logic::output_hash,
        state::*,
    },
    anchor_lang::prelude::*,
};

#[derive(Accounts)]
pub struct RevealAndFinalize<'info> {
    /// The operator authority (a committee member).
    pub operator: Signer<'info>,
    pub payout: Payout<'info>,
    #[account(mut, seeds = [OUTPUT_SEED, payout.request.key().as_ref()], bump = payout.request.output_bump)]
    pub output: Box<Account<'info, Output>>,
}

impl<'info> RevealAndFinalize<'info> {
    pub fn handler(ctx: Context<'info, Self>, args: RevealArgs, output: Vec<u8>) -> Result<()> {
        let a = ctx.accounts;
        let operator = a.operator.key();
        round::reveal(&mut a.payout.request, &operator, args)?;
        let now = Clock::get()?.slot;
        if !a.payout.request.committee.reveals_done(now) {
            return Ok(());
        }
        a.payout.finalize(ctx.remaining_accounts, now)?;
        let r = &a.payout.request;
        let agreed = r.status == RequestStatus::Finalized && r.committee.agreed(&operator);
        let fits = !output.is_empty() && output.len() <= a.output.capacity as usize && a.output.data.is_empty();
        if !(agreed && fits && output_hash(&r.profile_hash, &output) == r.winning_hash) {
            return Ok(());
        }
        let total_len = u32::try_from(output.len()).map_err(|_| error!(crate::errors::VerityError::OutputTooLarge))?;
        a.output.write(&operator, now, 0, total_len, &output, &r.profile_hash, &r.winning_hash)?;
        log_written(r.key(), operator, &a.output);
        Ok(())
    }
}
