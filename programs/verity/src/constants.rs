//! PDA seeds and hard limits of the protocol (sizes that bound every loop and allocation). The seeds are IDL
//! constants (`#[constant]`), so TypeScript clients derive every PDA from the IDL.
use anchor_lang::prelude::constant;

/// Seed of the singleton `Config` PDA (also the authority of the stake vault).
#[constant]
pub const CONFIG_SEED: &[u8] = b"config";
/// Seed of the singleton `OperatorRegistry` PDA.
#[constant]
pub const REGISTRY_SEED: &[u8] = b"registry";
/// Seed of the stake vault token account PDA.
#[constant]
pub const STAKE_VAULT_SEED: &[u8] = b"stake_vault";
/// Seed prefix of `Model` PDAs: [`MODEL_SEED`, model_id (u64 LE)].
#[constant]
pub const MODEL_SEED: &[u8] = b"model";
/// Seed prefix of `Operator` PDAs: [`OPERATOR_SEED`, authority].
#[constant]
pub const OPERATOR_SEED: &[u8] = b"operator";
/// Seed prefix of `Request` PDAs: [`REQUEST_SEED`, requester, nonce (u64 LE)].
#[constant]
pub const REQUEST_SEED: &[u8] = b"request";
/// Seed prefix of `Output` PDAs: [`OUTPUT_SEED`, request].
#[constant]
pub const OUTPUT_SEED: &[u8] = b"output";
/// Seed prefix of `Prompt` PDAs (a long prompt written in chunks before submit): [`PROMPT_SEED`, owner,
/// nonce (u64 LE)].
#[constant]
pub const PROMPT_SEED: &[u8] = b"prompt";

/// Domain separator of result commitments.
pub const COMMIT_DOMAIN: &[u8] = b"verity-commit-v1";

/// Basis points in 100 %.
pub const BPS_DENOMINATOR: u64 = 10_000;
/// Largest protocol fee and largest model royalty (each), so that together they never exceed 100 %.
pub const MAX_FEE_SHARE_BPS: u16 = 5_000;
/// Operators the registry can hold (the draw scans all of them).
pub const MAX_OPERATORS: usize = 64;
/// Models that can ever be registered (served-models is a u64 bitmap indexed by `Model.index`).
pub const MAX_MODELS: u16 = 64;
/// Longest window (slots) any parameter may set (≈ 5 days at 400 ms slots).
pub const MAX_WINDOW_SLOTS: u64 = 1_000_000;
/// Slots without progress after which another majority member may take over writing an output.
pub const OUTPUT_HANDOVER_SLOTS: u64 = 20;
/// Slots after the end of its dispute window (or its second round's resolution) during which only the majority
/// may complete a result's output and callback; afterwards the request and its Dispute may be closed anyway.
pub const RESULT_KEEP_SLOTS: u64 = 200;
/// Largest committee size `k`.
pub const MAX_COMMITTEE_SIZE: u8 = 7;
/// Member slots a request reserves: `2 * MAX_COMMITTEE_SIZE + 1` (room for the escalation round of part 2).
pub const MAX_MEMBERS: usize = 15;
/// Hard cap of an inline prompt: a legacy `submit_request` transaction with two signers, a compute-budget
/// instruction and a callback program still fits the 1232-byte packet (≈ 547 bytes besides the prompt).
pub const MAX_PROMPT_BYTES: u32 = 640;
/// Largest prompt a `Prompt` account holds (and largest `max_input_bytes` of a model). An account created by CPI
/// grows by at most `MAX_PERMITTED_DATA_INCREASE` (10 KiB) in one instruction; 9 KiB + the `Prompt` header fits
/// (checked at compile time in `state/prompt.rs`).
pub const MAX_LONG_PROMPT_BYTES: u32 = 9_216;
/// Largest sampling temperature × 1000.
pub const MAX_TEMPERATURE_MILLI: u16 = 2_000;
/// Longest prompt URI.
pub const MAX_URI_LEN: usize = 200;
/// The output a committee member commits for a hash + URI prompt it cannot verify (the URI fails, serves bytes
/// that do not hash to `prompt_hash`, or more than the model's `max_input_bytes`): honest members agree on it,
/// so a requester's bad URI finalizes (fee paid, nobody slashed) instead of silencing the committee. The program
/// treats it as any output (docs/PROTOCOL.md "Hash + URI prompts").
pub const PROMPT_UNAVAILABLE: &str = "[verity: prompt unavailable]";
/// Longest model name.
pub const MAX_NAME_LEN: usize = 32;
/// Largest `max_output_tokens` of a model.
pub const MAX_OUTPUT_TOKENS: u32 = 8_192;
/// Largest `Output` capacity in bytes.
pub const MAX_OUTPUT_BYTES: u32 = 4_096;
/// Entries the SlotHashes sysvar holds at most (bounds the parse loop).
pub const MAX_SLOT_HASHES: usize = 512;
/// Seed prefix of `Dispute` PDAs (escalation or challenge round of a request): [`DISPUTE_SEED`, request].
#[constant]
pub const DISPUTE_SEED: &[u8] = b"dispute";
/// Seed prefix of the callback signer PDA [`CALLBACK_SEED`, request]: `deliver_callback` signs the CPI with it, so
/// a callback program can tell that Verity invoked it for that request (and nobody else, nor for another request).
#[constant]
pub const CALLBACK_SEED: &[u8] = b"callback";
/// Share of the overturned majority's forfeited rewards paid to the challenger (the rest goes to the
/// escalation majority).
pub const CHALLENGER_REWARD_BPS: u16 = 5_000;
/// Most extra accounts a callback CPI passes to the callback program.
pub const MAX_CALLBACK_ACCOUNTS: usize = 4;
/// Slots after the rewards unlock (dispute window over) during which a callback may be delivered; afterwards
/// anyone may record it as failed.
pub const CALLBACK_WINDOW: u64 = 100;
/// Anchor discriminator of the callback instruction `on_result(winning_hash: [u8; 32])` a callback program
/// implements: sha256("global:on_result")[..8].
pub const CALLBACK_IX_NAME: &str = "global:on_result";
