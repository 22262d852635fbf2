//! `verity-client`: what every Rust client of the Verity program shares — PDAs, instruction builders made from
//! the program crate's own `accounts`/`instruction` types, the protocol hashes, served-model bitmaps, error
//! names and the localnet state file. No tokio, no RPC client, no validator: the oracle node, the localnet, the
//! CLI and the tests' fixtures all build on it.
pub mod decode;
pub mod errors;
pub mod files;
pub mod hash;
pub mod ix;
pub mod models;
pub mod pda;
pub mod prompt;

pub use {
    decode::instruction_name,
    errors::{error_name, tx_error_code},
    files::{read_keypair, write_keypair, FileError, LocalnetInfo, ModelInfo, OperatorInfo, INFO_FILE},
};
