//! Instruction handlers, one file per instruction, grouped by the account they mainly act on.
pub mod callback;
pub mod config;
pub mod dispute;
pub mod model;
pub mod operator;
pub mod prompt;
pub mod request;
pub mod round;
pub mod vault;

pub use {
    callback::*,
    config::*,
    dispute::*,
    model::*,
    operator::*,
    prompt::*,
    request::*,
    round::{Draw, Payout, RevealArgs, RoundState},
};
