//! Instruction builders: every instruction comes from the program's generated `verity::instruction::*` data and
//! `verity::accounts::*` account structs (never hand-encoded); PDAs from [`crate::pda`].
use {
    crate::pda,
    anchor_lang::{prelude::Pubkey, InstructionData, ToAccountMetas},
    solana_instruction::{AccountMeta, Instruction},
    verity::{
        accounts as a, instruction as i,
        state::{Config, ConfigParams, Dispute, ModelParams, Request},
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

/// A Verity instruction from Anchor's generated accounts struct and instruction data.
pub fn ix(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction { program_id: verity::ID, accounts: accounts.to_account_metas(None), data: data.data() }
}

/// `initialize_config` by `authority`, with the stake mint and the treasury's stake token account.
pub fn initialize_config(
    authority: &Pubkey,
    stake_mint: &Pubkey,
    treasury: &Pubkey,
    treasury_stake: &Pubkey,
    params: ConfigParams,
) -> Instruction {
    ix(
        a::InitializeConfig {
            authority: *authority,
            config: pda::config(),
            registry: pda::registry(),
            stake_mint: *stake_mint,
            stake_vault: pda::stake_vault(),
            treasury: *treasury,
            treasury_stake: *treasury_stake,
            token_program: TOKEN_PROGRAM,
            system_program: anchor_lang::system_program::ID,
        },
        i::InitializeConfig { params },
    )
}

/// `register_model` by `owner`, approved by the config `authority` (both sign).
pub fn register_model(owner: &Pubkey, authority: &Pubkey, model_id: u64, params: ModelParams) -> Instruction {
    ix(
        a::RegisterModel {
            owner: *owner,
            authority: *authority,
            config: pda::config(),
            model: pda::model(model_id),
            system_program: anchor_lang::system_program::ID,
        },
        i::RegisterModel { model_id, params },
    )
}

pub fn submit(requester: &Pubkey, model: &Pubkey, args: SubmitRequestArgs) -> Instruction {
    submit_with(requester, model, args, None)
}

/// `submit_request` with the requester's complete `Prompt` account (`prompt`: its address) holding the prompt
/// (`args.prompt` and `prompt_uri` empty, `prompt_hash = Some(its hash)`), or without one (None).
pub fn submit_with(requester: &Pubkey, model: &Pubkey, args: SubmitRequestArgs, prompt: Option<Pubkey>) -> Instruction {
    let request = pda::request(requester, args.nonce);
    ix(
        a::SubmitRequest {
            requester: *requester,
            config: pda::config(),
            model: *model,
            request,
            output: pda::output(&request),
            system_program: anchor_lang::system_program::ID,
            prompt,
        },
        i::SubmitRequest { args },
    )
}

/// The accounts every committee draw reads.
fn draw() -> a::Draw {
    a::Draw { config: pda::config(), registry: pda::registry(), slot_hashes: slot_hashes_id() }
}

/// The accounts a settlement of `key`'s rounds pays through.
fn payout(config: &Config, key: &Pubkey, r: &Request) -> a::Payout {
    a::Payout {
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
    }
}

pub fn assign(request: &Pubkey) -> Instruction {
    ix(a::AssignCommittee { draw: draw(), request: *request }, i::AssignCommittee {})
}

pub fn commit(operator: &Pubkey, request: &Pubkey, commitment: [u8; 32]) -> Instruction {
    ix(a::CommitResult { operator: *operator, request: *request }, i::CommitResult { commitment })
}

pub fn reveal(operator: &Pubkey, request: &Pubkey, args: RevealArgs) -> Instruction {
    ix(a::RevealResult { operator: *operator, request: *request }, i::RevealResult { args })
}

/// Every member's Operator PDA, writable, in committee order (the remaining accounts of a settlement).
pub fn member_operators(r: &Request) -> impl Iterator<Item = AccountMeta> + '_ {
    r.committee.members.iter().map(|m| AccountMeta::new(pda::operator(&m.operator), false))
}

/// `finalize_request` with every member's Operator PDA (writable, in committee order) as remaining accounts.
pub fn finalize(config: &Config, key: &Pubkey, r: &Request) -> Instruction {
    let mut out = ix(a::FinalizeRequest { payout: payout(config, key, r) }, i::FinalizeRequest {});
    out.accounts.extend(member_operators(r));
    out
}

/// `reveal_and_finalize` by `operator`: its reveal, the settlement when it is the last one, and `output` (may be
/// empty) stored if it won; with the settlement's remaining accounts.
pub fn reveal_and_finalize(
    operator: &Pubkey,
    config: &Config,
    key: &Pubkey,
    r: &Request,
    args: RevealArgs,
    output: Vec<u8>,
) -> Instruction {
    let accounts =
        a::RevealAndFinalize { operator: *operator, payout: payout(config, key, r), output: pda::output(key) };
    let mut out = ix(accounts, i::RevealAndFinalize { args, output });
    out.accounts.extend(member_operators(r));
    out
}

pub fn write_output(writer: &Pubkey, request: &Pubkey, args: WriteOutputArgs) -> Instruction {
    ix(a::WriteOutput { writer: *writer, request: *request, output: pda::output(request) }, i::WriteOutput { args })
}

pub fn expire(request: &Pubkey, requester: &Pubkey) -> Instruction {
    ix(a::ExpireRequest { config: pda::config(), request: *request, requester: *requester }, i::ExpireRequest {})
}

pub fn claim(request: &Pubkey, authority: &Pubkey) -> Instruction {
    ix(a::ClaimReward { operator: *authority, request: *request }, i::ClaimReward {})
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
    ix(a::AssignDispute { draw: draw(), request: *request, dispute: pda::dispute(request) }, i::AssignDispute {})
}

pub fn commit_dispute(operator: &Pubkey, request: &Pubkey, commitment: [u8; 32]) -> Instruction {
    ix(a::CommitDispute { operator: *operator, dispute: pda::dispute(request) }, i::CommitDispute { commitment })
}

pub fn reveal_dispute(operator: &Pubkey, request: &Pubkey, args: RevealArgs) -> Instruction {
    ix(a::RevealDispute { operator: *operator, dispute: pda::dispute(request) }, i::RevealDispute { args })
}

/// `resolve_dispute` with the round's Operator PDAs (committee order), then those of the first-round members
/// the challenge locked (`locked_first` bits, committee order), all writable.
pub fn resolve_dispute(config: &Config, key: &Pubkey, r: &Request, d: &Dispute) -> Instruction {
    let accounts = a::ResolveDispute {
        payout: payout(config, key, r),
        output: pda::output(key),
        dispute: pda::dispute(key),
        opener: d.opener,
    };
    let mut out = ix(accounts, i::ResolveDispute {});
    out.accounts.extend(d.committee.members.iter().map(|m| AccountMeta::new(pda::operator(&m.operator), false)));
    let locked = r.committee.members.iter().take(16).enumerate().filter(|(i, _)| (d.locked_first >> i) & 1 == 1);
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
    ix(a::ClaimDisputeReward { operator: *authority, dispute: pda::dispute(request) }, i::ClaimDisputeReward {})
}

pub fn close_dispute(request: &Pubkey, opener: &Pubkey) -> Instruction {
    ix(
        a::CloseDispute {
            dispute: pda::dispute(request),
            opener: *opener,
            request: *request,
            output: pda::output(request),
        },
        i::CloseDispute {},
    )
}

/// `close_request` by its requester: closes Request and Output (and needs the request's Dispute PDA empty); for a
/// request without a `Prompt` account (else [`close_request_with`]).
pub fn close_request(requester: &Pubkey, request: &Pubkey) -> Instruction {
    close_request_with(requester, request, None)
}

/// `close_request` passing `prompt`: the request's `Prompt` account (`Request.prompt_account`, closed with it).
pub fn close_request_with(requester: &Pubkey, request: &Pubkey, prompt: Option<Pubkey>) -> Instruction {
    ix(
        a::CloseRequest {
            requester: *requester,
            config: pda::config(),
            request: *request,
            output: pda::output(request),
            dispute: pda::dispute(request),
            prompt,
        },
        i::CloseRequest {},
    )
}

pub fn set_served_models(authority: &Pubkey, served_models: u64) -> Instruction {
    ix(
        a::SetServedModels {
            authority: *authority,
            config: pda::config(),
            registry: pda::registry(),
            operator: pda::operator(authority),
        },
        i::SetServedModels { served_models },
    )
}

pub fn deregister_operator(authority: &Pubkey) -> Instruction {
    ix(
        a::DeregisterOperator {
            authority: *authority,
            config: pda::config(),
            registry: pda::registry(),
            operator: pda::operator(authority),
        },
        i::DeregisterOperator {},
    )
}

pub fn update_config(
    authority: &Pubkey,
    treasury: &Pubkey,
    treasury_stake: &Pubkey,
    params: ConfigParams,
) -> Instruction {
    ix(
        a::UpdateConfig {
            authority: *authority,
            config: pda::config(),
            treasury: *treasury,
            treasury_stake: *treasury_stake,
        },
        i::UpdateConfig { params },
    )
}

pub fn set_paused(authority: &Pubkey, paused: bool) -> Instruction {
    ix(a::SetPaused { authority: *authority, config: pda::config() }, i::SetPaused { paused })
}

pub fn update_model(owner: &Pubkey, model: &Pubkey, params: ModelParams) -> Instruction {
    ix(a::UpdateModel { owner: *owner, model: *model }, i::UpdateModel { params })
}

pub fn deactivate_model(owner: &Pubkey, model: &Pubkey) -> Instruction {
    ix(a::DeactivateModel { owner: *owner, model: *model }, i::DeactivateModel {})
}

/// `deliver_callback` to `program` with the `extra` accounts its `on_result` needs (≤ 4).
pub fn deliver_callback(request: &Pubkey, program: &Pubkey, extra: Vec<AccountMeta>) -> Instruction {
    let mut out = ix(
        a::DeliverCallback {
            config: pda::config(),
            request: *request,
            output: pda::output(request),
            callback_authority: pda::callback_signer(request),
            callback_program: *program,
        },
        i::DeliverCallback {},
    );
    out.accounts.extend(extra);
    out
}

pub fn expire_callback(request: &Pubkey) -> Instruction {
    ix(a::ExpireCallback { config: pda::config(), request: *request }, i::ExpireCallback {})
}

#[cfg(test)]
mod tests {
    use {super::*, verity::state::Member};

    #[test]
    fn finalize_passes_every_member_operator_pda_in_committee_order() {
        let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
        let mut r: Request = anchor_lang::AnchorDeserialize::deserialize(&mut &[0u8; 4096][..]).unwrap();
        r.committee.members = vec![Member::new(b), Member::new(a)];
        let cfg: Config = anchor_lang::AnchorDeserialize::deserialize(&mut &[0u8; 4096][..]).unwrap();
        let key = Pubkey::new_unique();
        let out = finalize(&cfg, &key, &r);
        assert_eq!(out.program_id, verity::ID);
        let tail: Vec<Pubkey> = out.accounts.iter().rev().take(2).rev().map(|m| m.pubkey).collect();
        assert_eq!(tail, vec![pda::operator(&b), pda::operator(&a)]);
        assert!(out.accounts.iter().rev().take(2).all(|m| m.is_writable && !m.is_signer));
        assert_eq!(out.data[..8], <i::FinalizeRequest as anchor_lang::Discriminator>::DISCRIMINATOR[..]);
    }

    #[test]
    fn signers_are_marked_and_pdas_derived() {
        let op = Pubkey::new_unique();
        let out = register_operator(&op, 1);
        assert!(out.accounts.iter().any(|m| m.pubkey == op && m.is_signer));
        assert!(out.accounts.iter().any(|m| m.pubkey == pda::operator(&op) && m.is_writable));
        let req = Pubkey::new_unique();
        assert!(close_request(&op, &req).accounts.iter().any(|m| m.pubkey == pda::dispute(&req)));
    }
}
