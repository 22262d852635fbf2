//! Instruction builders: every instruction comes from the program's generated `verity::instruction::*` data and
//! `verity::accounts::*` account structs (never hand-encoded).
use {
    super::pda,
    anchor_lang::{prelude::Pubkey, InstructionData, ToAccountMetas},
    solana_instruction::{AccountMeta, Instruction},
    verity::{
        accounts as a,
        instruction as i,
        state::{Config, Dispute, Request},
        RevealArgs, SubmitRequestArgs, WriteOutputArgs,
    },
};

/// The SPL Token program id.
pub const TOKEN_PROGRAM: Pubkey = anchor_spl::token::ID;
/// The SlotHashes sysvar.
fn slot_hashes_id() -> Pubkey {
    use anchor_lang::solana_program::sysvar::SysvarId;
    anchor_lang::prelude::SlotHashes::id()
}

fn ix(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction { program_id: verity::ID, accounts: accounts.to_account_metas(None), data: data.data() }
}

pub fn submit(requester: &Pubkey, model: &Pubkey, args: SubmitRequestArgs) -> Instruction {
    let request = pda::request(requester, args.nonce);
    ix(
        a::SubmitRequest {
            requester: *requester,
            config: pda::config(),
            model: *model,
            request,
            output: pda::output(&request),
            system_program: anchor_lang::system_program::ID,
        },
        i::SubmitRequest { args },
    )
}

pub fn assign(request: &Pubkey) -> Instruction {
    ix(
        a::AssignCommittee {
            config: pda::config(),
            registry: pda::registry(),
            request: *request,
            slot_hashes: slot_hashes_id(),
        },
        i::AssignCommittee {},
    )
}

pub fn commit(operator: &Pubkey, request: &Pubkey, commitment: [u8; 32]) -> Instruction {
    ix(a::CommitResult { operator: *operator, config: pda::config(), request: *request }, i::CommitResult { commitment })
}

pub fn reveal(operator: &Pubkey, request: &Pubkey, args: RevealArgs) -> Instruction {
    ix(a::RevealResult { operator: *operator, config: pda::config(), request: *request }, i::RevealResult { args })
}

/// `finalize_request` with every member's Operator PDA (writable, in committee order) as remaining accounts.
pub fn finalize(config: &Config, key: &Pubkey, r: &Request) -> Instruction {
    let mut out = ix(
        a::FinalizeRequest {
            config: pda::config(),
            registry: pda::registry(),
            request: *key,
            requester: r.requester,
            model_owner: r.model_owner,
            treasury: config.treasury,
            stake_mint: config.stake_mint,
            stake_vault: pda::stake_vault(),
            treasury_stake: config.treasury_stake,
            token_program: TOKEN_PROGRAM,
        },
        i::FinalizeRequest {},
    );
    out.accounts.extend(r.members.iter().map(|m| AccountMeta::new(pda::operator(&m.operator), false)));
    out
}

pub fn write_output(writer: &Pubkey, request: &Pubkey, args: WriteOutputArgs) -> Instruction {
    ix(
        a::WriteOutput { writer: *writer, request: *request, output: pda::output(request) },
        i::WriteOutput { args },
    )
}

pub fn expire(request: &Pubkey, requester: &Pubkey) -> Instruction {
    ix(
        a::ExpireRequest { config: pda::config(), request: *request, requester: *requester },
        i::ExpireRequest {},
    )
}

pub fn claim(request: &Pubkey, authority: &Pubkey) -> Instruction {
    ix(a::ClaimReward { config: pda::config(), request: *request, operator: *authority }, i::ClaimReward {})
}

pub fn register_operator(authority: &Pubkey, served_models: u64) -> Instruction {
    ix(
        a::RegisterOperator {
            authority: *authority,
            config: pda::config(),
            registry: pda::registry(),
            operator: pda::operator(authority),
            system_program: anchor_lang::system_program::ID,
        },
        i::RegisterOperator { served_models },
    )
}

pub fn stake(authority: &Pubkey, stake_mint: &Pubkey, source: &Pubkey, amount: u64) -> Instruction {
    ix(
        a::Stake {
            authority: *authority,
            config: pda::config(),
            registry: pda::registry(),
            operator: pda::operator(authority),
            stake_mint: *stake_mint,
            source: *source,
            stake_vault: pda::stake_vault(),
            token_program: TOKEN_PROGRAM,
        },
        i::Stake { amount },
    )
}

pub fn request_unstake(authority: &Pubkey, amount: u64) -> Instruction {
    ix(
        a::RequestUnstake {
            authority: *authority,
            config: pda::config(),
            registry: pda::registry(),
            operator: pda::operator(authority),
        },
        i::RequestUnstake { amount },
    )
}

pub fn withdraw(authority: &Pubkey, stake_mint: &Pubkey, destination: &Pubkey) -> Instruction {
    ix(
        a::WithdrawStake {
            authority: *authority,
            config: pda::config(),
            registry: pda::registry(),
            operator: pda::operator(authority),
            stake_mint: *stake_mint,
            destination: *destination,
            stake_vault: pda::stake_vault(),
            token_program: TOKEN_PROGRAM,
        },
        i::WithdrawStake {},
    )
}

/// `open_dispute`: on an Escalated request opens its escalation round (no bond); on a Finalized one within the
/// dispute window a challenge (the signer posts `Config.dispute_bond`).
pub fn open_dispute(challenger: &Pubkey, request: &Pubkey) -> Instruction {
    ix(
        a::OpenDispute {
            challenger: *challenger,
            config: pda::config(),
            registry: pda::registry(),
            request: *request,
            dispute: pda::dispute(request),
            system_program: anchor_lang::system_program::ID,
        },
        i::OpenDispute {},
    )
}

pub fn assign_dispute(request: &Pubkey) -> Instruction {
    ix(
        a::AssignDispute {
            config: pda::config(),
            registry: pda::registry(),
            request: *request,
            dispute: pda::dispute(request),
            slot_hashes: slot_hashes_id(),
        },
        i::AssignDispute {},
    )
}

pub fn commit_dispute(operator: &Pubkey, request: &Pubkey, commitment: [u8; 32]) -> Instruction {
    ix(
        a::CommitDispute { operator: *operator, config: pda::config(), dispute: pda::dispute(request) },
        i::CommitDispute { commitment },
    )
}

pub fn reveal_dispute(operator: &Pubkey, request: &Pubkey, args: RevealArgs) -> Instruction {
    ix(
        a::RevealDispute { operator: *operator, config: pda::config(), dispute: pda::dispute(request) },
        i::RevealDispute { args },
    )
}

/// `resolve_dispute` with the round's Operator PDAs (committee order), then those of the first-round members
/// the challenge locked (`locked_first` bits, committee order), all writable.
pub fn resolve_dispute(config: &Config, key: &Pubkey, r: &Request, d: &Dispute) -> Instruction {
    let mut out = ix(
        a::ResolveDispute {
            config: pda::config(),
            registry: pda::registry(),
            request: *key,
            output: pda::output(key),
            dispute: pda::dispute(key),
            requester: r.requester,
            model_owner: r.model_owner,
            treasury: config.treasury,
            opener: d.opener,
            stake_mint: config.stake_mint,
            stake_vault: pda::stake_vault(),
            treasury_stake: config.treasury_stake,
            token_program: TOKEN_PROGRAM,
        },
        i::ResolveDispute {},
    );
    out.accounts.extend(d.members.iter().map(|m| AccountMeta::new(pda::operator(&m.operator), false)));
    let locked = r.members.iter().take(16).enumerate().filter(|(i, _)| (d.locked_first >> i) & 1 == 1);
    out.accounts.extend(locked.map(|(_, m)| AccountMeta::new(pda::operator(&m.operator), false)));
    out
}

/// `write_output` by a member of the second round's majority (the Dispute account proves it).
pub fn write_output_second_round(writer: &Pubkey, request: &Pubkey, args: WriteOutputArgs) -> Instruction {
    let mut out = write_output(writer, request, args);
    out.accounts.push(AccountMeta::new_readonly(pda::dispute(request), false));
    out
}

pub fn claim_dispute_reward(request: &Pubkey, authority: &Pubkey) -> Instruction {
    ix(
        a::ClaimDisputeReward { dispute: pda::dispute(request), operator: *authority },
        i::ClaimDisputeReward {},
    )
}

pub fn close_dispute(request: &Pubkey, opener: &Pubkey) -> Instruction {
    ix(
        a::CloseDispute { dispute: pda::dispute(request), opener: *opener, request: *request, output: pda::output(request) },
        i::CloseDispute {},
    )
}
