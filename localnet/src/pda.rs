//! Addresses of the Verity program's PDAs: re-exported from the program crate (one derivation).
pub use verity::pda::*;
