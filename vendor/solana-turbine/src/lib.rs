#![cfg(feature = "agave-unstable-api")]
#![allow(clippy::arithmetic_side_effects)]

mod addr_cache;

pub mod broadcast_stage;

pub mod cluster_nodes;

pub mod retransmit_stage;

pub mod sigverify_shreds;

pub use solana_net_utils::PinnedXdpSender as XdpSender;

#[macro_use]
extern crate log;

#[macro_use]
extern crate solana_metrics;

#[cfg(test)]
#[macro_use]
extern crate assert_matches;
