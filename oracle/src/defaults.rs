//! Every timing and default of the node, the chain client and the CLI, in one place (config files and
//! `VERITY_*` env override the ones marked "configurable").
use std::time::Duration;

// ── node (configurable: `poll_ms`, `concurrency`) ──
/// How often the node re-reads the program's accounts without a websocket wake-up.
pub const POLL: Duration = Duration::from_millis(800);
/// Inference jobs the node runs at once: all of them join the engine's running batch (decoded together, one
/// token of every sequence per step; the output of each does not depend on the others).
pub const CONCURRENCY: usize = 8;
/// Per-try timeout of a URI prompt fetch (configurable: `fetch_timeout_ms`).
pub const PROMPT_FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Tries of a URI prompt fetch that fails transiently (timeouts, connection errors, HTTP 429/5xx).
pub const PROMPT_FETCH_TRIES: u32 = 3;
/// Sequences the engine shared by a localnet's in-process nodes decodes together (`--batch`).
pub const LOCALNET_BATCH: usize = 16;
/// Polling interval while a served request waits for its assign turn (a slot, which wakes no websocket).
pub const SLOT_POLL: Duration = Duration::from_millis(100);
/// Smallest accepted `poll_ms`.
pub const MIN_POLL_MS: u64 = 50;
/// Pause after a websocket wake-up so a burst of account changes is read once.
pub const WAKE_DEBOUNCE: Duration = Duration::from_millis(50);
/// Output bytes per `write_output` transaction (fits a 1232-byte transaction with its accounts).
pub const OUTPUT_CHUNK: usize = 700;
/// Slots an Agreed member that is not the first one waits before writing the output itself.
pub const WRITE_GRACE_SLOTS: u64 = 20;
/// Slots a non-member waits after a round could be settled before cranking finalize itself.
pub const FINALIZE_GRACE_SLOTS: u64 = 10;
/// Slots between one crank's turns in the crank order (assign: by [`crate::node::plan::crank_rank`]; settle:
/// revealers first): the leader acts at once, the next one only if it has not after this many slots, and so on.
pub const CRANK_STAGGER_SLOTS: u64 = 3;
/// Slots after the reward unlock an Agreed member that is not the first one waits before claiming its own reward
/// (the first one claims every member's in its batches).
pub const CLAIM_GRACE_SLOTS: u64 = 10;
/// Largest answer (bytes) a node sends inside its `reveal_and_finalize` (larger ones go by `write_output`).
pub const REVEAL_OUTPUT_MAX: usize = 300;
/// `claim_reward` instructions per transaction (8 fit 1232 bytes with room to spare).
pub const CLAIMS_PER_TX: usize = 8;

// ── chain client ──
/// Attempts per read or send before an endpoint is given up (then the next endpoint).
pub const RETRY_ATTEMPTS: u32 = 8;
/// First and largest backoff between attempts (a node's deadlines are counted in 400 ms slots: a read that
/// keeps failing gives up within ~6 s and the next tick starts over, rather than stalling the node).
pub const RETRY_BASE: Duration = Duration::from_millis(200);
pub const RETRY_MAX: Duration = Duration::from_secs(1);
/// How long one sent transaction may take to confirm before it is resent.
pub const CONFIRM_TIMEOUT: Duration = Duration::from_secs(20);
/// HTTP timeout of one JSON-RPC call.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to look for a transaction whose `sendTransaction` reply was lost.
pub const LOST_REPLY_WAIT: Duration = Duration::from_secs(2);
/// While a sent transaction is being confirmed, the same signed transaction is sent again this often.
pub const RESEND_EVERY: Duration = Duration::from_secs(2);
/// First and largest time an RPC endpoint that failed a call is passed over (doubling per consecutive failure).
pub const RPC_BENCH_BASE: Duration = Duration::from_millis(250);
pub const RPC_BENCH_MAX: Duration = Duration::from_secs(30);
/// Interval of signature-status polls while confirming.
pub const CONFIRM_POLL: Duration = Duration::from_millis(300);
/// First and largest delay before re-subscribing a dropped websocket.
pub const WS_BACKOFF_START: Duration = Duration::from_millis(500);
pub const WS_BACKOFF_MAX: Duration = Duration::from_secs(10);

// ── wallet / CLI ──
/// Interval of a wallet's polls for its request's result and output.
pub const WALLET_POLL: Duration = Duration::from_millis(400);
