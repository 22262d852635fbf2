//! Every timing and default of the node, the chain client and the CLI, in one place (config files and
//! `VERITY_*` env override the ones marked "configurable").
use std::time::Duration;

// ── node (configurable: `poll_ms`, `concurrency`) ──
/// How often the node re-reads the program's accounts without a websocket wake-up.
pub const POLL: Duration = Duration::from_millis(800);
/// Inference jobs the node runs at once.
pub const CONCURRENCY: usize = 2;
/// Smallest accepted `poll_ms`.
pub const MIN_POLL_MS: u64 = 50;
/// Pause after a websocket wake-up so a burst of account changes is read once.
pub const WAKE_DEBOUNCE: Duration = Duration::from_millis(50);
/// Output bytes per `write_output` transaction (fits a 1232-byte transaction with its accounts).
pub const OUTPUT_CHUNK: usize = 700;
/// Slots an Agreed member that is not the first one waits before writing the output itself.
pub const WRITE_GRACE_SLOTS: u64 = 20;
/// Slots a non-member waits past the reveal deadline before cranking finalize itself.
pub const FINALIZE_GRACE_SLOTS: u64 = 10;

// ── chain client ──
/// Attempts per read or send before an endpoint is given up (then the next endpoint).
pub const RETRY_ATTEMPTS: u32 = 8;
/// First and largest backoff between attempts.
pub const RETRY_BASE: Duration = Duration::from_millis(200);
pub const RETRY_MAX: Duration = Duration::from_secs(4);
/// How long one sent transaction may take to confirm before it is resent.
pub const CONFIRM_TIMEOUT: Duration = Duration::from_secs(20);
/// HTTP timeout of one JSON-RPC call.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to look for a transaction whose `sendTransaction` reply was lost.
pub const LOST_REPLY_WAIT: Duration = Duration::from_secs(2);
/// Interval of signature-status polls while confirming.
pub const CONFIRM_POLL: Duration = Duration::from_millis(300);
/// First and largest delay before re-subscribing a dropped websocket.
pub const WS_BACKOFF_START: Duration = Duration::from_millis(500);
pub const WS_BACKOFF_MAX: Duration = Duration::from_secs(10);

// ── wallet / CLI ──
/// Interval of a wallet's polls for its request's result and output.
pub const WALLET_POLL: Duration = Duration::from_millis(400);
