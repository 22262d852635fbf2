//! Account state of the program and the state transitions on it (pure methods, unit-tested).
mod config;
mod dispute;
mod member;
mod model;
mod operator;
mod output;
mod prompt;
mod registry;
mod request;
mod round;
mod round_account;
mod sampling;
mod settlement;

pub use {
    config::*, dispute::*, member::*, model::*, operator::*, output::*, prompt::*, registry::*, request::*, round::*,
    round_account::*, sampling::*, settlement::*,
};

#[cfg(test)]
mod tests;
