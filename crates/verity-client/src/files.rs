//! Files clients share: keypairs in the Solana CLI format and `localnet.json`, which tells the node, the CLI,
//! the TS tests and the web app where a local network is and which accounts its bootstrap created.
use {
    anchor_lang::prelude::Pubkey,
    serde::{Deserialize, Serialize},
    solana_keypair::Keypair,
    std::path::{Path, PathBuf},
};

/// File name of the network description inside a localnet's state directory.
pub const INFO_FILE: &str = "localnet.json";

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("reading {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("writing {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("parsing {path}: {source}")]
    Parse { path: PathBuf, source: serde_json::Error },
    #[error("bad keypair in {path} (want a JSON array of 64 bytes)")]
    BadKeypair { path: PathBuf },
    #[error("bad address `{0}`")]
    BadAddress(String),
    #[error("no model `{0}` on this localnet (registered: {1})")]
    UnknownModel(String, String),
}

/// Writes `kp` to `path` in the Solana CLI format (a JSON array of the 64 secret+public bytes).
pub fn write_keypair(kp: &Keypair, path: &Path) -> Result<(), FileError> {
    let json = serde_json::to_string(&kp.to_bytes().to_vec())
        .map_err(|source| FileError::Parse { path: path.into(), source })?;
    std::fs::write(path, json).map_err(|source| FileError::Write { path: path.into(), source })
}

/// Reads a keypair file in the Solana CLI format.
pub fn read_keypair(path: &Path) -> Result<Keypair, FileError> {
    let text = std::fs::read_to_string(path).map_err(|source| FileError::Read { path: path.into(), source })?;
    let bytes: Vec<u8> =
        serde_json::from_str(&text).map_err(|source| FileError::Parse { path: path.into(), source })?;
    Keypair::try_from(bytes.as_slice()).map_err(|_| FileError::BadKeypair { path: path.into() })
}

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
    /// The first registered model (`models[0]`).
    pub model: ModelInfo,
    /// Every registered model, the first included (absent in files of older localnets: then `[model]`).
    #[serde(default)]
    pub models: Vec<ModelInfo>,
    pub operators: Vec<OperatorInfo>,
    /// A funded wallet for clients (TS tests, app, `verity demo`).
    pub wallet: String,
    pub wallet_keypair: PathBuf,
    pub commit_window: u64,
    pub reveal_window: u64,
    pub committee_size: u8,
}

impl LocalnetInfo {
    /// Writes this description to `dir/localnet.json`.
    pub fn save(&self, dir: &Path) -> Result<(), FileError> {
        let path = dir.join(INFO_FILE);
        let json =
            serde_json::to_string_pretty(self).map_err(|source| FileError::Parse { path: path.clone(), source })?;
        std::fs::write(&path, json).map_err(|source| FileError::Write { path, source })
    }

    /// Reads `dir/localnet.json`.
    pub fn load(dir: &Path) -> Result<Self, FileError> {
        let path = dir.join(INFO_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| FileError::Read { path: path.clone(), source })?;
        let mut info: LocalnetInfo = serde_json::from_str(&text).map_err(|source| FileError::Parse { path, source })?;
        if info.models.is_empty() {
            info.models.push(info.model.clone());
        }
        Ok(info)
    }

    /// The registered model of this name (on-chain or registry name, e.g. `qwen2.5-coder-0.5b` matches
    /// `qwen2.5-coder-0.5b-instruct`), else an error listing the names.
    pub fn model_named(&self, name: &str) -> Result<&ModelInfo, FileError> {
        self.models
            .iter()
            .find(|m| m.name == name)
            .or_else(|| self.models.iter().find(|m| m.name.strip_suffix("-instruct") == Some(name)))
            .ok_or_else(|| {
                FileError::UnknownModel(
                    name.into(),
                    self.models.iter().map(|m| m.name.clone()).collect::<Vec<_>>().join(", "),
                )
            })
    }

    /// Parses one of the base58 addresses in this file.
    pub fn pubkey(s: &str) -> Result<Pubkey, FileError> {
        s.parse().map_err(|_| FileError::BadAddress(s.into()))
    }
}

#[cfg(test)]
mod tests {
    use {super::*, solana_signer::Signer};

    #[test]
    fn keypair_files_round_trip_and_bad_ones_are_named() {
        let dir = std::env::temp_dir().join(format!("verity-client-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (kp, path) = (Keypair::new(), dir.join("k.json"));
        write_keypair(&kp, &path).unwrap();
        assert_eq!(read_keypair(&path).unwrap().pubkey(), kp.pubkey());
        std::fs::write(&path, "[1,2,3]").unwrap();
        assert!(matches!(read_keypair(&path), Err(FileError::BadKeypair { .. })));
        assert!(matches!(read_keypair(&dir.join("missing.json")), Err(FileError::Read { .. })));
        assert!(matches!(LocalnetInfo::pubkey("not-base58!"), Err(FileError::BadAddress(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
