//! Verity oracle node library: the deterministic inference engine, the chain client, the durable job store, the
//! node's commit-reveal state machine, metrics, and the operator CLI.
//!
//! `inference` holds everything that turns a prompt into a reproducible output hash (model fetch, GGUF
//! loading, tokenizer, reproducibility profile, batched engine); `chain` (RPC with failover, idempotent sender,
//! websocket watch, wallet), `store` (redb), `node` (state machine, executor, in-process cluster), `config`
//! (TOML + env), `defaults` (every timing and default), `metrics` (Prometheus); `cli` holds the `verity`
//! subcommands.

#[cfg(feature = "node")]
pub mod chain;
pub mod cli;
#[cfg(feature = "node")]
pub mod config;
#[cfg(feature = "node")]
pub mod defaults;
pub mod inference;
#[cfg(feature = "node")]
pub mod metrics;
#[cfg(feature = "node")]
pub mod node;
#[cfg(feature = "node")]
pub mod store;
