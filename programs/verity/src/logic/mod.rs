//! Pure protocol logic (hashing, committee draw, settlement math): no accounts, unit-tested.
pub mod draw;
pub mod hashing;
pub mod settle;

pub use {draw::*, hashing::*, settle::*};
