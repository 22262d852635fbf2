//! The state directory: keypair files and `localnet.json`, which tells the node, the CLI, the TS tests and the
//! web app where the network is and which accounts the bootstrap created.
use {
    crate::{bootstrap::Deployment, pda},
    anchor_lang::prelude::Pubkey,
    anyhow::Context,
    serde::{Deserialize, Serialize},
    solana_keypair::Keypair,
    solana_signer::Signer,
    std::path::{Path, PathBuf},
};

/// File name of the network description inside the state directory.
pub const INFO_FILE: &str = "localnet.json";

/// One operator as written to `localnet.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct OperatorInfo {
    /// Authority (signer) public key.
    pub authority: String,
    /// Path of the authority's keypair file (Solana CLI JSON format).
    pub keypair: PathBuf,
    /// Operator PDA.
    pub operator: String,
    /// SPL token account holding the operator's unstaked stake tokens.
    pub stake_account: String,
}

/// The model as written to `localnet.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ModelInfo {
    pub id: u64,
    pub address: String,
    pub index: u8,
    pub name: String,
    /// Hex of the 32-byte inference profile hash.
    pub profile_hash: String,
}

/// Contents of `localnet.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct LocalnetInfo {
    pub rpc_url: String,
    pub ws_url: String,
    /// Faucet address (`host:port`); the RPC `requestAirdrop` uses it.
    pub faucet: String,
    pub program_id: String,
    pub config: String,
    pub registry: String,
    pub stake_mint: String,
    pub stake_vault: String,
    pub treasury: String,
    pub treasury_stake: String,
    pub authority_keypair: PathBuf,
    pub model: ModelInfo,
    pub operators: Vec<OperatorInfo>,
    /// A funded wallet for clients (TS tests, app, `verity demo`).
    pub wallet: String,
    pub wallet_keypair: PathBuf,
    pub commit_window: u64,
    pub reveal_window: u64,
    pub committee_size: u8,
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `kp` to `path` in the Solana CLI format (a JSON array of the 64 secret+public bytes).
pub fn write_keypair(kp: &Keypair, path: &Path) -> anyhow::Result<()> {
    let json = serde_json::to_string(&kp.to_bytes().to_vec())?;
    std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))
}

/// Reads a keypair file in the Solana CLI format.
pub fn read_keypair(path: &Path) -> anyhow::Result<Keypair> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let bytes: Vec<u8> = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Keypair::try_from(bytes.as_slice()).with_context(|| format!("bad keypair in {}", path.display()))
}

impl LocalnetInfo {
    /// Writes the deployment's keypairs under `dir/keys/` and `dir/localnet.json`; returns the description.
    pub fn write(dir: &Path, rpc_url: &str, ws_url: &str, faucet: &str, d: &Deployment) -> anyhow::Result<Self> {
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
            model: ModelInfo {
                id: d.model_id,
                address: d.model.to_string(),
                index: d.model_index,
                name: d.model_params.name.clone(),
                profile_hash: hex(&d.model_params.profile_hash),
            },
            operators,
            wallet: d.wallet.pubkey().to_string(),
            wallet_keypair: key("wallet", &d.wallet)?,
            commit_window: d.config.commit_window,
            reveal_window: d.config.reveal_window,
            committee_size: d.config.committee_size,
        };
        let path = dir.join(INFO_FILE);
        std::fs::write(&path, serde_json::to_string_pretty(&info)?)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(info)
    }

    /// Reads `dir/localnet.json`.
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(INFO_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// Parses one of the base58 addresses in this file.
    pub fn pubkey(s: &str) -> anyhow::Result<Pubkey> {
        s.parse().with_context(|| format!("bad address {s}"))
    }
}
