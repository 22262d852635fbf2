//! Native-runtime glue (builtin wrapper recording the `InvokeContext`, solana-sysvar 3.x → 4.x syscall bridge):
//! moved to the `verity-native` crate, shared with `verity-localnet`; re-exported here for the test harness.
pub use verity_native::*;
