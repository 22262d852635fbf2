//! The steps of a commit-reveal round, written once for both rounds: the first round's instructions
//! (`assign_committee`, `commit_result`, `reveal_result`, `finalize_request`, `claim_reward`) and the second's
//! (`assign_dispute`, `commit_dispute`, `reveal_dispute`, `resolve_dispute`, `claim_dispute_reward`) are thin
//! handlers over these steps and the account groups they share ([`Draw`], [`Payout`]).
use {
    crate::{constants::*, errors::VerityError, events::*, instructions::vault::pay_from_vault, state::*},
    anchor_lang::{prelude::*, solana_program::sysvar::SysvarId},
    anchor_spl::token::{Mint, Token, TokenAccount},
};

/// A round account as the steps take it: its transitions ([`RoundAccount`]), its events ([`RoundEvents`]),
/// an Anchor account of this program.
pub trait RoundState: RoundAccount + RoundEvents + AccountSerialize + AccountDeserialize + Owner + Clone {}
impl<T: RoundAccount + RoundEvents + AccountSerialize + AccountDeserialize + Owner + Clone> RoundState for T {}

/// A member's reveal (`reveal_result`, `reveal_dispute`).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct RevealArgs {
    /// sha256(profile_hash ‖ output UTF-8).
    pub output_hash: [u8; 32],
    pub salt: [u8; 32],
    /// Prompt tokens after the chat template.
    pub tokens_in: u32,
    /// Generated tokens (≤ max_tokens).
    pub tokens_out: u32,
}

/// What a committee draw reads (`assign_committee`, `assign_dispute`): the config's assign window, the
/// registry it draws from (and counts the members' open assignments in), the SlotHashes sysvar it seeds from.
#[derive(Accounts)]
pub struct Draw<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [REGISTRY_SEED], bump = registry.bump)]
    pub registry: Box<Account<'info, OperatorRegistry>>,
    /// CHECK: the SlotHashes sysvar, parsed by hand (bounded).
    #[account(address = SlotHashes::id() @ VerityError::InvalidSlotHashes)]
    pub slot_hashes: UncheckedAccount<'info>,
}

impl<'info> Draw<'info> {
    /// Draws `round`'s committee for round `round_no` of `request` (`exclude`: authorities that may not sit in
    /// it) and logs the round's assigned event.
    pub fn assign<R: RoundState>(
        &mut self,
        round: &mut Account<'info, R>,
        request: Pubkey,
        (round_no, model_index): (u8, u8),
        exclude: &[Pubkey],
    ) -> Result<()> {
        let now = Clock::get()?.slot;
        let spec = DrawSpec {
            assign_window: self.config.params.assign_window,
            request,
            round: round_no,
            model_index,
            exclude,
        };
        let committee = round.draw(&mut self.registry, &self.slot_hashes.try_borrow_data()?, spec, now)?;
        crate::emit_event!(round.assigned(round.key(), committee));
        Ok(())
    }
}

/// `commit_result` / `commit_dispute`: records `operator`'s commitment to `round`.
pub fn commit<R: RoundState>(round: &mut Account<'_, R>, operator: &Pubkey, commitment: [u8; 32]) -> Result<()> {
    round.commit_by(operator, commitment, Clock::get()?.slot)?;
    crate::emit_event!(round.committed(round.key(), *operator));
    Ok(())
}

/// `reveal_result` / `reveal_dispute`: checks `operator`'s reveal against its commitment (bound to the round
/// account's key) and records it.
pub fn reveal<R: RoundState>(round: &mut Account<'_, R>, operator: &Pubkey, args: RevealArgs) -> Result<()> {
    let (key, tokens) = (round.key(), (args.tokens_in, args.tokens_out));
    round.reveal_by(&key, operator, args.output_hash, args.salt, tokens, Clock::get()?.slot)?;
    crate::emit_event!(round.revealed(key, *operator, args.output_hash));
    Ok(())
}

/// `claim_reward` / `claim_dispute_reward`: once the round may pay, pays `operator`'s reward from the round
/// account's escrow to the operator's authority.
pub fn claim<'info, R: RoundState>(round: &mut Account<'info, R>, operator: &UncheckedAccount<'info>) -> Result<()> {
    round.check_claimable(Clock::get()?.slot)?;
    let amount = round.committee_mut().claim(operator.key)?;
    let claimed = round.rewards_claimed_mut();
    *claimed = claimed.checked_add(amount).ok_or(VerityError::MathOverflow)?;
    round.sub_lamports(amount)?;
    operator.add_lamports(amount)?;
    crate::emit_event!(round.claimed(round.key(), operator.key(), amount));
    Ok(())
}

/// The accounts a round's settlement pays through (`finalize_request`, `resolve_dispute`): the request escrow
/// and its payees, the registry whose open counts and locks it updates, the stake vault its slashes leave.
#[derive(Accounts)]
pub struct Payout<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [REGISTRY_SEED], bump = registry.bump)]
    pub registry: Box<Account<'info, OperatorRegistry>>,
    #[account(
        mut,
        seeds = [REQUEST_SEED, request.requester.as_ref(), &request.nonce.to_le_bytes()],
        bump = request.bump,
    )]
    pub request: Box<Account<'info, Request>>,
    /// CHECK: receives the fee's refund when no majority decides the request.
    #[account(mut, address = request.requester @ VerityError::AccountMismatch)]
    pub requester: UncheckedAccount<'info>,
    /// CHECK: receives the royalty.
    #[account(mut, address = request.model_owner @ VerityError::AccountMismatch)]
    pub model_owner: UncheckedAccount<'info>,
    /// CHECK: receives the protocol fee and remainders.
    #[account(mut, address = config.treasury @ VerityError::AccountMismatch)]
    pub treasury: UncheckedAccount<'info>,
    #[account(address = config.stake_mint @ VerityError::InvalidStakeTokenAccount)]
    pub stake_mint: Box<Account<'info, Mint>>,
    #[account(mut, address = config.stake_vault @ VerityError::InvalidStakeTokenAccount)]
    pub stake_vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, address = config.treasury_stake @ VerityError::InvalidStakeTokenAccount)]
    pub treasury_stake: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

impl<'info> Payout<'info> {
    /// Ends the assignment of each settled member in the registry: its values in force now, one open
    /// assignment fewer and, where a slot is given, slashable until then (whatever it does meanwhile).
    pub fn release<'a>(&mut self, ops: impl IntoIterator<Item = (&'a Operator, Option<u64>)>, now: u64) -> Result<()> {
        let clock = self.config.registry_clock(now);
        for (op, lock) in ops {
            self.registry.sync(op, &clock)?;
            self.registry.adjust_open(&op.authority, false)?;
            if let Some(slot) = lock {
                self.registry.lock_until(&op.authority, slot)?;
            }
        }
        Ok(())
    }

    /// Logs `OperatorSlashed` for `slash` of `op` (its books after the slash).
    pub fn log_slash(&self, op: &Operator, slash: &Slash) {
        let (request, authority, stake, unbonding) = (self.request.key(), op.authority, op.stake, op.unbonding);
        crate::emit_event!(OperatorSlashed {
            request,
            authority,
            amount: slash.amount,
            outcome: slash.outcome,
            stake,
            unbonding
        });
    }

    /// Moves `amount` stake tokens from the vault to the treasury stake account (the Config PDA signs).
    pub fn slash_to_treasury(&self, amount: u64) -> Result<()> {
        let (config, mint, vault) = (&self.config, &self.stake_mint, &self.stake_vault);
        pay_from_vault(config, mint, vault, &self.treasury_stake, &self.token_program, amount)
    }
}

/// Moves lamports out of `from` (an escrow account of this program, above its rent) to each payee; zero
/// amounts are skipped.
pub fn pay_lamports<'info>(from: &AccountInfo<'info>, payments: &[(&AccountInfo<'info>, u64)]) -> Result<()> {
    for (to, amount) in payments.iter().filter(|(_, amount)| *amount > 0) {
        from.sub_lamports(*amount)?;
        to.add_lamports(*amount)?;
    }
    Ok(())
}

/// Loads the Operator accounts of `authorities` from `remaining` (exactly that many, in that order), checking
/// owner, PDA and writability.
pub fn load_operators_for<'info>(
    remaining: &'info [AccountInfo<'info>],
    authorities: &[Pubkey],
) -> Result<Vec<Account<'info, Operator>>> {
    require!(remaining.len() == authorities.len(), VerityError::WrongOperatorAccounts);
    let mut ops = Vec::with_capacity(remaining.len());
    for (info, auth) in remaining.iter().zip(authorities.iter()).take(MAX_MEMBERS.saturating_mul(2)) {
        require!(info.is_writable, VerityError::WrongOperatorAccounts);
        let op = Account::<Operator>::try_from(info).map_err(|_| error!(VerityError::WrongOperatorAccounts))?;
        require_keys_eq!(op.authority, *auth, VerityError::WrongOperatorAccounts);
        let pda = Pubkey::create_program_address(&[OPERATOR_SEED, auth.as_ref(), &[op.bump]], &crate::ID)
            .map_err(|_| error!(VerityError::WrongOperatorAccounts))?;
        require_keys_eq!(*info.key, pda, VerityError::WrongOperatorAccounts);
        ops.push(op);
    }
    Ok(ops)
}

/// The Operator books of loaded accounts, for the state transitions.
pub fn books<'a>(ops: &'a mut [Account<'_, Operator>]) -> Vec<&'a mut Operator> {
    ops.iter_mut().map(|o| &mut **o).collect()
}

/// Writes each loaded Operator account back.
pub fn exit_all<'a, 'info: 'a>(ops: impl IntoIterator<Item = &'a Account<'info, Operator>>) -> Result<()> {
    for op in ops {
        op.exit(&crate::ID)?;
    }
    Ok(())
}
