//! Requests: submit, assign, commit, reveal (alone or finalizing), write output, finalize, expire, claim, close.
pub mod assign_committee;
pub mod claim_reward;
pub mod close_request;
pub mod commit_result;
pub mod expire_request;
pub mod finalize_request;
pub mod reveal_and_finalize;
pub mod reveal_result;
pub mod submit_request;
pub mod write_output;

pub use {
    assign_committee::*, claim_reward::*, close_request::*, commit_result::*, expire_request::*, finalize_request::*,
    reveal_and_finalize::*, reveal_result::*, submit_request::*, write_output::*,
};
