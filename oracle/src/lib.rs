//! Verity oracle node library: the deterministic inference engine and the operator CLI.
//!
//! `inference` holds everything that turns a prompt into a reproducible output hash (model fetch, GGUF
//! loading, tokenizer, reproducibility profile, batched engine); `cli` holds the `verity` subcommands.

pub mod cli;
pub mod inference;
