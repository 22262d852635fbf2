//! `verity-localnet`: a real Agave test validator (JSON-RPC, websockets, faucet, SPL Token) running the natively
//! compiled Verity program as a builtin, plus the bootstrap of a ready network (config, stake mint, SmolLM2
//! model, staked operators) and the `localnet.json` state file clients read.
//!
//! Modules: `builtin` (program account, builtin on every bank, syscall stubs), `validator` ([`Localnet`]),
//! `chain` (RPC setup client), `bootstrap` (protocol setup), `info` (state directory); PDAs, instruction
//! builders and the `localnet.json` types come from `verity-client`.
pub mod bootstrap;
pub mod builtin;
pub mod chain;
pub mod info;
pub mod validator;

pub use verity_client::{pda, LocalnetInfo, INFO_FILE};
pub use {
    bootstrap::{bootstrap, BootstrapOptions, Deployment, OperatorKeys, SOL, STAKE_TOKEN},
    chain::Chain,
    info::write_info,
    validator::{Localnet, LocalnetOptions},
};

use std::path::Path;

/// A running, bootstrapped network.
pub struct Network {
    pub localnet: Localnet,
    pub deployment: Deployment,
    pub info: LocalnetInfo,
}

/// Starts a fresh validator with its ledger in `dir/ledger`, bootstraps the protocol and writes the keypairs and
/// `dir/localnet.json`. `validator.ledger_dir` is ignored (always `dir/ledger`).
pub async fn launch(dir: &Path, validator: LocalnetOptions, boot: &BootstrapOptions) -> anyhow::Result<Network> {
    std::fs::create_dir_all(dir)?;
    let opts = LocalnetOptions { ledger_dir: Some(dir.join("ledger")), ..validator };
    let localnet = Localnet::start(opts).await?;
    let deployment = bootstrap(&localnet.chain(), boot).await?;
    let info = write_info(dir, &localnet.rpc_url, &localnet.ws_url, &localnet.faucet.to_string(), &deployment)?;
    Ok(Network { localnet, deployment, info })
}
