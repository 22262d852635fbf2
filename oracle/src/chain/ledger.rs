//! What landed on chain: every transaction that invoked the program since a slot, successful or failed, read
//! back from the RPC node's transaction history (`getSignaturesForAddress` + `getTransaction`), counted by
//! instruction. Transactions a node's preflight refused never land; the node's `tx_sent` counter covers those.
use {
    super::{ChainClient, ChainError},
    solana_commitment_config::CommitmentConfig,
    solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config,
    solana_rpc_client_api::config::RpcTransactionConfig,
    solana_signature::Signature,
    solana_transaction_status_client_types::UiTransactionEncoding,
    std::{collections::BTreeMap, str::FromStr},
};

/// Landed program transactions by the name of their (first) Verity instruction.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Landed {
    /// name → (succeeded, failed).
    pub by_instruction: BTreeMap<&'static str, (u64, u64)>,
}

impl Landed {
    pub fn total(&self) -> u64 {
        self.by_instruction.values().map(|(ok, failed)| ok + failed).sum()
    }

    pub fn failed(&self) -> u64 {
        self.by_instruction.values().map(|(_, failed)| failed).sum()
    }

    /// `name ok(+failed)` per instruction, divided by `per` (e.g. per request), one line.
    pub fn describe(&self, per: f64) -> String {
        let per = per.max(1.0);
        let parts: Vec<String> = self
            .by_instruction
            .iter()
            .map(|(name, (ok, failed))| match failed {
                0 => format!("{name} {:.2}", *ok as f64 / per),
                f => format!("{name} {:.2} (+{:.2} failed)", *ok as f64 / per, *f as f64 / per),
            })
            .collect();
        parts.join(", ")
    }
}

/// Every transaction that invoked the program in slots ≥ `since_slot` (confirmed), by instruction.
pub async fn landed_since(chain: &ChainClient, since_slot: u64) -> Result<Landed, ChainError> {
    let mut out = Landed::default();
    let mut before: Option<Signature> = None;
    loop {
        let page = chain
            .read("getSignaturesForAddress", |rpc| async move {
                let config = GetConfirmedSignaturesForAddress2Config {
                    before,
                    until: None,
                    limit: Some(1000),
                    commitment: Some(CommitmentConfig::confirmed()),
                };
                rpc.get_signatures_for_address_with_config(&verity::ID, config).await
            })
            .await?;
        let Some(last) = page.last() else { break };
        before = Signature::from_str(&last.signature).ok();
        let done = last.slot < since_slot || page.len() < 1000 || before.is_none();
        for entry in page.iter().filter(|e| e.slot >= since_slot) {
            let Ok(sig) = Signature::from_str(&entry.signature) else { continue };
            let name = instruction_of(chain, sig).await?.unwrap_or("(no Verity instruction)");
            let counts = out.by_instruction.entry(name).or_default();
            if entry.err.is_some() {
                counts.1 += 1;
            } else {
                counts.0 += 1;
            }
        }
        if done {
            break;
        }
    }
    Ok(out)
}

/// The name of the first Verity instruction of transaction `sig`.
async fn instruction_of(chain: &ChainClient, sig: Signature) -> Result<Option<&'static str>, ChainError> {
    let tx = chain
        .read("getTransaction", |rpc| async move {
            let config = RpcTransactionConfig {
                encoding: Some(UiTransactionEncoding::Base64),
                commitment: Some(CommitmentConfig::confirmed()),
                max_supported_transaction_version: Some(0),
            };
            rpc.get_transaction_with_config(&sig, config).await
        })
        .await?;
    let Some(tx) = tx.transaction.transaction.decode() else { return Ok(None) };
    let keys = tx.message.static_account_keys();
    Ok(tx
        .message
        .instructions()
        .iter()
        .filter(|ix| keys.get(usize::from(ix.program_id_index)) == Some(&verity::ID))
        .find_map(|ix| verity_client::instruction_name(&ix.data)))
}
