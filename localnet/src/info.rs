//! The state directory: keypair files under `keys/` and `localnet.json` (types in `verity-client`), written
//! after the bootstrap so the node, the CLI, the TS tests and the web app find the network.
use {
    crate::{bootstrap::Deployment, pda},
    anyhow::Context,
    solana_keypair::Keypair,
    solana_signer::Signer,
    std::path::{Path, PathBuf},
    verity_client::{hash::hex, write_keypair, LocalnetInfo, ModelInfo, OperatorInfo},
};

pub use verity_client::read_keypair;

/// Writes the deployment's keypairs under `dir/keys/` and `dir/localnet.json`; returns the description.
pub fn write_info(
    dir: &Path,
    rpc_url: &str,
    ws_url: &str,
    faucet: &str,
    d: &Deployment,
) -> anyhow::Result<LocalnetInfo> {
    let dir = std::path::absolute(dir)?;
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys).with_context(|| format!("creating {}", keys.display()))?;
    let key = |name: &str, kp: &Keypair| -> anyhow::Result<PathBuf> {
        let path = keys.join(format!("{name}.json"));
        write_keypair(kp, &path)?;
        Ok(path)
    };
    key("mint-authority", &d.mint_authority)?;
    key("treasury", &d.treasury)?;
    key("model-owner", &d.model_owner)?;
    let mut operators = Vec::with_capacity(d.operators.len());
    for (i, op) in d.operators.iter().enumerate() {
        operators.push(OperatorInfo {
            authority: op.authority.pubkey().to_string(),
            keypair: key(&format!("operator-{i}"), &op.authority)?,
            operator: op.pda.to_string(),
            stake_account: op.stake_account.to_string(),
        });
    }
    let first = ModelInfo {
        id: d.model_id,
        address: d.model.to_string(),
        index: d.model_index,
        name: d.model_params.name.clone(),
        profile_hash: hex(&d.model_params.profile_hash),
    };
    let info = LocalnetInfo {
        rpc_url: rpc_url.into(),
        ws_url: ws_url.into(),
        faucet: faucet.into(),
        program_id: verity::ID.to_string(),
        config: pda::config().to_string(),
        registry: pda::registry().to_string(),
        stake_mint: d.stake_mint.to_string(),
        stake_vault: pda::stake_vault().to_string(),
        treasury: d.treasury.pubkey().to_string(),
        treasury_stake: d.treasury_stake.to_string(),
        authority_keypair: key("authority", &d.authority)?,
        model: first.clone(),
        models: std::iter::once(first)
            .chain(d.extra_models.iter().map(|m| ModelInfo {
                id: m.id,
                address: m.address.to_string(),
                index: m.index,
                name: m.params.name.clone(),
                profile_hash: hex(&m.params.profile_hash),
            }))
            .collect(),
        operators,
        wallet: d.wallet.pubkey().to_string(),
        wallet_keypair: key("wallet", &d.wallet)?,
        commit_window: d.config.commit_window,
        reveal_window: d.config.reveal_window,
        committee_size: d.config.committee_size,
    };
    info.save(&dir)?;
    Ok(info)
}
