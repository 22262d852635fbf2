//! PDA seeds and hard limits of the protocol (sizes that bound every loop and allocation).

/// Seed of the singleton `Config` PDA (also the authority of the stake vault).
pub const CONFIG_SEED: &[u8] = b"config";
/// Seed of the singleton `OperatorRegistry` PDA.
pub const REGISTRY_SEED: &[u8] = b"registry";
/// Seed of the stake vault token account PDA.
pub const STAKE_VAULT_SEED: &[u8] = b"stake_vault";
/// Seed prefix of `Model` PDAs: [`MODEL_SEED`, model_id (u64 LE)].
pub const MODEL_SEED: &[u8] = b"model";
/// Seed prefix of `Operator` PDAs: [`OPERATOR_SEED`, authority].
pub const OPERATOR_SEED: &[u8] = b"operator";
/// Seed prefix of `Request` PDAs: [`REQUEST_SEED`, requester, nonce (u64 LE)].
pub const REQUEST_SEED: &[u8] = b"request";
/// Seed prefix of `Output` PDAs: [`OUTPUT_SEED`, request].
pub const OUTPUT_SEED: &[u8] = b"output";

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
/// Largest committee size `k`.
pub const MAX_COMMITTEE_SIZE: u8 = 7;
/// Member slots a request reserves: `2 * MAX_COMMITTEE_SIZE + 1` (room for the escalation round of part 2).
pub const MAX_MEMBERS: usize = 15;
/// Hard cap of an inline prompt: a legacy `submit_request` transaction with two signers, a compute-budget
/// instruction and a callback program still fits the 1232-byte packet (≈ 547 bytes besides the prompt).
pub const MAX_PROMPT_BYTES: u32 = 640;
/// Longest prompt URI.
pub const MAX_URI_LEN: usize = 200;
/// Longest model name.
pub const MAX_NAME_LEN: usize = 32;
/// Largest `max_output_tokens` of a model.
pub const MAX_OUTPUT_TOKENS: u32 = 8_192;
/// Largest `Output` capacity in bytes.
pub const MAX_OUTPUT_BYTES: u32 = 4_096;
/// Entries the SlotHashes sysvar holds at most (bounds the parse loop).
pub const MAX_SLOT_HASHES: usize = 512;
