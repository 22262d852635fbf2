//! Instruction handlers, one file per instruction, grouped by the account they mainly act on.
pub mod config;
pub mod model;
pub mod operator;
pub mod request;

pub use {config::*, model::*, operator::*, request::*};
