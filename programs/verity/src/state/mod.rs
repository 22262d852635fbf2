//! Account state of the program and the state transitions on it (pure methods, unit-tested).
mod config;
mod dispute;
mod model;
mod operator;
mod output;
mod registry;
mod request;
mod settlement;

pub use {config::*, dispute::*, model::*, operator::*, output::*, registry::*, request::*, settlement::*};

#[cfg(test)]
mod tests;
