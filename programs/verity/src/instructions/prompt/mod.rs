//! Long prompts: a `Prompt` account created, written in chunks and (while no request uses it) closed by its owner.
pub mod close_prompt;
pub mod create_prompt;
pub mod write_prompt;

pub use {close_prompt::*, create_prompt::*, write_prompt::*};
