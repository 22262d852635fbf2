//! The optional result callback: delivered by a permissionless crank, never by finalize (a failing CPI cannot be
//! caught on Solana, so it must not share a transaction with settlement).
pub mod deliver_callback;
pub mod expire_callback;

pub use {deliver_callback::*, expire_callback::*};
