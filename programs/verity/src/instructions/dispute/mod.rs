//! Disputes and escalations: open, assign the 2k+1 committee, commit, reveal, resolve, claim, close.
pub mod assign_dispute;
pub mod claim_dispute_reward;
pub mod close_dispute;
pub mod commit_dispute;
pub mod open_dispute;
pub mod resolve_dispute;
pub mod reveal_dispute;

pub use {
    assign_dispute::*, claim_dispute_reward::*, close_dispute::*, commit_dispute::*, open_dispute::*,
    resolve_dispute::*, reveal_dispute::*,
};
