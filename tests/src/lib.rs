//! Native-runtime glue and test harness for running the Verity program inside solana-program-test:
//! `native` (builtin + syscall bridge), `env` (bank + helpers), `pda` (addresses, hashes), `fixture` (setups).
pub mod admin;
pub mod attack;
pub mod conservation;
pub mod consumer;
pub mod dispute;
pub mod env;
pub mod fixture;
pub mod flow;
pub mod model_check;
pub mod native;
pub mod pda;
pub mod prompt;
pub mod prop_dispute;
pub mod prop_settle;
pub mod prop_world;
pub mod registry_model;
pub mod stake_at_risk;

pub use env::{custom_code, events, Env, Pubkey, TxErr, TxOk, SOL};
pub use fixture::*;
pub use flow::*;
pub use prompt::*;
pub use solana_keypair::Keypair;
pub use solana_signer::Signer;
pub use verity::VerityError;
