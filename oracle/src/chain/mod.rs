//! Chain access over JSON-RPC: several endpoints with failover, program accounts decoded with the program's own
//! types, and an idempotent transaction sender (resends the same signed transaction until it confirms or its
//! blockhash expires, then re-signs after checking earlier signatures; exponential backoff; confirmation tracking).
mod endpoints;
pub mod ledger;
pub mod prompt;
pub mod wallet;
pub mod watch;

/// Instruction builders and PDAs: the shared client crate's.
pub use verity_client::{ix, pda};

use {
    crate::{defaults, metrics::Metrics},
    anchor_lang::{prelude::Pubkey, AccountDeserialize, Discriminator},
    solana_commitment_config::CommitmentConfig,
    solana_instruction::Instruction,
    solana_keypair::Keypair,
    solana_rpc_client::nonblocking::rpc_client::RpcClient,
    solana_rpc_client_api::{
        client_error::Error as ClientError,
        config::{RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig},
        filter::{Memcmp, RpcFilterType},
    },
    solana_signature::Signature,
    solana_signer::Signer,
    solana_transaction::Transaction,
    solana_transaction_error::TransactionError,
    std::{future::Future, sync::Arc, time::Duration},
    verity_client::{error_name, tx_error_code},
};

/// Why a chain call failed.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The program rejected the transaction with its own error code (`VerityError` = 6000 + index).
    #[error("program error {code} ({name})")]
    Program { code: u32, name: String },
    /// The transaction failed for another on-chain reason.
    #[error("transaction failed: {0}")]
    Transaction(String),
    /// Every endpoint failed (after retries).
    #[error("RPC unavailable after {attempts} attempts: {last}")]
    Rpc { attempts: u32, last: String },
    #[error("account {0} not found")]
    NotFound(Pubkey),
    #[error("account {key} is not a valid {what}: {why}")]
    Decode { key: Pubkey, what: &'static str, why: String },
}

impl ChainError {
    /// The program error code, if the program rejected the transaction.
    pub fn program_code(&self) -> Option<u32> {
        match self {
            ChainError::Program { code, .. } => Some(*code),
            _ => None,
        }
    }
    /// True when the error is the given `VerityError`.
    pub fn is(&self, e: verity::VerityError) -> bool {
        self.program_code() == Some(u32::from(e))
    }
}

/// The custom program error code a failed RPC call carried (preflight or confirmed failure).
pub fn custom_code(err: &ClientError) -> Option<u32> {
    tx_error_code(&err.get_transaction_error()?)
}

/// Retry policy for reads and sends.
#[derive(Clone, Debug)]
pub struct Retry {
    pub attempts: u32,
    pub base: Duration,
    pub max: Duration,
    /// How long to wait for one sent transaction to confirm before resending.
    pub confirm_timeout: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: defaults::RETRY_ATTEMPTS,
            base: defaults::RETRY_BASE,
            max: defaults::RETRY_MAX,
            confirm_timeout: defaults::CONFIRM_TIMEOUT,
        }
    }
}

impl Retry {
    fn backoff(&self, attempt: u32) -> Duration {
        self.base.saturating_mul(1u32 << attempt.min(10)).min(self.max)
    }
}

/// JSON-RPC client over several endpoints (failover on transport errors).
#[derive(Clone)]
pub struct ChainClient {
    endpoints: Arc<endpoints::Endpoints>,
    pub retry: Retry,
    pub metrics: Metrics,
}

impl ChainClient {
    /// A client over `urls` (the first is preferred) at `confirmed` commitment.
    pub fn new(urls: &[String], metrics: Metrics) -> anyhow::Result<ChainClient> {
        anyhow::ensure!(!urls.is_empty(), "no RPC URL configured");
        let endpoints = Arc::new(endpoints::Endpoints::new(urls));
        Ok(ChainClient { endpoints, retry: Retry::default(), metrics })
    }

    /// The endpoint to use now (its index, to report how the call went) and its client.
    fn rpc(&self) -> (usize, Arc<RpcClient>) {
        self.endpoints.pick()
    }

    /// A call on endpoint `i` failed at the transport level: count it and bench the endpoint.
    fn fail_over(&self, i: usize, why: &str) {
        self.metrics.rpc_error();
        self.endpoints.failed(i, why);
    }

    /// Runs a read with retries, backoff and failover.
    pub async fn read<T, F, Fut>(&self, what: &str, f: F) -> Result<T, ChainError>
    where
        F: Fn(Arc<RpcClient>) -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let mut last = String::new();
        for attempt in 0..self.retry.attempts {
            let (i, rpc) = self.rpc();
            match f(rpc).await {
                Ok(v) => {
                    self.endpoints.succeeded(i);
                    return Ok(v);
                }
                Err(e) => {
                    last = format!("{what}: {e}");
                    self.fail_over(i, &last);
                    tokio::time::sleep(self.retry.backoff(attempt)).await;
                }
            }
        }
        Err(ChainError::Rpc { attempts: self.retry.attempts, last })
    }

    pub async fn slot(&self) -> Result<u64, ChainError> {
        self.read("getSlot", |c| async move { c.get_slot().await }).await
    }

    /// Raw account data (None when the account does not exist).
    pub async fn account_data(&self, key: &Pubkey) -> Result<Option<Vec<u8>>, ChainError> {
        let key = *key;
        let acct = self
            .read("getAccountInfo", |c| async move {
                c.get_account_with_commitment(&key, CommitmentConfig::confirmed()).await
            })
            .await?;
        Ok(acct.value.map(|a| a.data))
    }

    /// Fetches and decodes the Anchor account `T` at `key` (owner's discriminator checked).
    pub async fn account<T: AccountDeserialize>(&self, key: &Pubkey, what: &'static str) -> Result<T, ChainError> {
        let data = self.account_data(key).await?.ok_or(ChainError::NotFound(*key))?;
        decode(key, &data, what)
    }

    /// Every program account of type `T` (filtered by its discriminator), decoded; undecodable ones are skipped
    /// with a warning.
    pub async fn program_accounts<T: AccountDeserialize + Discriminator>(
        &self,
        what: &'static str,
    ) -> Result<Vec<(Pubkey, T)>, ChainError> {
        let config = RpcProgramAccountsConfig {
            filters: Some(vec![RpcFilterType::Memcmp(Memcmp::new_raw_bytes(0, T::DISCRIMINATOR.to_vec()))]),
            account_config: RpcAccountInfoConfig {
                encoding: Some(solana_account_decoder_client_types::UiAccountEncoding::Base64),
                commitment: Some(CommitmentConfig::confirmed()),
                ..Default::default()
            },
            ..Default::default()
        };
        let accounts = self
            .read("getProgramAccounts", |c| {
                let config = config.clone();
                async move { c.get_program_ui_accounts_with_config(&verity::ID, config).await }
            })
            .await?;
        Ok(accounts
            .into_iter()
            .filter_map(|(k, a)| match a.data.decode().map(|d| decode::<T>(&k, &d, what)) {
                None => {
                    tracing::warn!(account = %k, "undecodable account encoding");
                    None
                }
                Some(Ok(v)) => Some((k, v)),
                Some(Err(e)) => {
                    tracing::warn!("{e}");
                    None
                }
            })
            .collect())
    }

    /// Sends `ixs` signed by `signer` (also the fee payer) and waits for `confirmed`. Idempotent: a signed
    /// transaction is resent as is (same signature, so the runtime can only execute it once) until it confirms or
    /// its blockhash expires; only then is it re-signed with a fresh blockhash, after checking that no earlier
    /// signature of this call landed. Transport errors back off exponentially and fail over to the next endpoint;
    /// program errors return at once.
    pub async fn send(&self, label: &str, ixs: &[Instruction], signer: &Keypair) -> Result<Signature, ChainError> {
        let mut sent: Vec<Signature> = Vec::new();
        let mut current: Option<Transaction> = None;
        let mut last = String::new();
        for attempt in 0..self.retry.attempts {
            if attempt > 0 {
                self.metrics.tx_retry();
                tokio::time::sleep(self.retry.backoff(attempt - 1)).await;
                if let Some(sig) = self.landed(&sent).await? {
                    return Ok(sig);
                }
            }
            let (i, rpc) = self.rpc();
            if let Some(tx) = &current {
                match rpc.is_blockhash_valid(&tx.message.recent_blockhash, CommitmentConfig::processed()).await {
                    Ok(true) => {}
                    Ok(false) => current = None,
                    Err(e) => {
                        last = format!("isBlockhashValid: {e}");
                        self.fail_over(i, &last);
                        continue;
                    }
                }
            }
            let tx = match current.take() {
                Some(tx) => tx,
                None => match rpc.get_latest_blockhash().await {
                    Ok(h) => Transaction::new_signed_with_payer(ixs, Some(&signer.pubkey()), &[signer], h),
                    Err(e) => {
                        last = format!("getLatestBlockhash: {e}");
                        self.fail_over(i, &last);
                        continue;
                    }
                },
            };
            let sig = tx.signatures[0];
            if !sent.contains(&sig) {
                sent.push(sig);
            }
            let config = RpcSendTransactionConfig {
                preflight_commitment: Some(CommitmentConfig::confirmed().commitment),
                max_retries: Some(0),
                ..Default::default()
            };
            self.metrics.tx_sent();
            let res = rpc.send_transaction_with_config(&tx, config).await;
            current = Some(tx);
            let wait = match res {
                Ok(_) => {
                    self.endpoints.succeeded(i);
                    self.retry.confirm_timeout
                }
                Err(e) => match e.get_transaction_error() {
                    // Already executed (an earlier send of this very transaction): just confirm it.
                    Some(TransactionError::AlreadyProcessed) => self.retry.confirm_timeout,
                    Some(TransactionError::BlockhashNotFound) => {
                        current = None;
                        last = "blockhash not found".into();
                        continue;
                    }
                    Some(err) => return Err(on_chain_error(&err)),
                    None => {
                        // The node may have accepted it although the reply was lost: look for it briefly.
                        last = format!("sendTransaction: {e}");
                        self.fail_over(i, &last);
                        defaults::LOST_REPLY_WAIT
                    }
                },
            };
            let resend = current.as_ref().filter(|_| wait > defaults::RESEND_EVERY);
            match self.confirm(sig, wait, resend).await {
                Ok(true) => {
                    tracing::debug!(label, %sig, "confirmed");
                    return Ok(sig);
                }
                Ok(false) => last = format!("{sig} not confirmed in {wait:?}"),
                Err(e) => return Err(e),
            }
        }
        if let Some(sig) = self.landed(&sent).await? {
            return Ok(sig);
        }
        self.metrics.tx_failed();
        Err(ChainError::Rpc { attempts: self.retry.attempts, last: format!("{label}: {last}") })
    }

    /// The first of `sigs` that is confirmed (an on-chain failure of one is returned as its error).
    async fn landed(&self, sigs: &[Signature]) -> Result<Option<Signature>, ChainError> {
        if sigs.is_empty() {
            return Ok(None);
        }
        let list = sigs.to_vec();
        let statuses = self
            .read("getSignatureStatuses", |c| {
                let list = list.clone();
                async move { c.get_signature_statuses(&list).await }
            })
            .await?;
        for (sig, st) in sigs.iter().zip(statuses.value) {
            if let Some(st) = st {
                if let Some(err) = st.err {
                    return Err(on_chain_error(&err));
                }
                if st.satisfies_commitment(CommitmentConfig::confirmed()) {
                    return Ok(Some(*sig));
                }
            }
        }
        Ok(None)
    }

    /// Polls `sig` until confirmed (true), failed (error) or `wait` passes (false). With `resend`, the same signed
    /// transaction (same signature: the runtime executes it at most once) is sent again every
    /// [`RESEND_EVERY`](defaults::RESEND_EVERY) meanwhile, as a packet the validator dropped would otherwise
    /// cost the whole wait.
    async fn confirm(&self, sig: Signature, wait: Duration, resend: Option<&Transaction>) -> Result<bool, ChainError> {
        let start = tokio::time::Instant::now();
        let deadline = start + wait;
        let mut next_resend = start + defaults::RESEND_EVERY;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(defaults::CONFIRM_POLL).await;
            if let Some(tx) = resend.filter(|_| tokio::time::Instant::now() >= next_resend) {
                next_resend += defaults::RESEND_EVERY;
                let config =
                    RpcSendTransactionConfig { skip_preflight: true, max_retries: Some(0), ..Default::default() };
                let (i, rpc) = self.rpc();
                self.metrics.tx_resent();
                if let Err(e) = rpc.send_transaction_with_config(tx, config).await {
                    if e.get_transaction_error().is_none() {
                        self.fail_over(i, &format!("sendTransaction (resend): {e}"));
                    }
                }
            }
            let (i, rpc) = self.rpc();
            match rpc.get_signature_statuses(&[sig]).await {
                Ok(r) => {
                    self.endpoints.succeeded(i);
                    if let Some(Some(st)) = r.value.first() {
                        if let Some(err) = &st.err {
                            return Err(on_chain_error(err));
                        }
                        if st.satisfies_commitment(CommitmentConfig::confirmed()) {
                            return Ok(true);
                        }
                    }
                }
                Err(e) => {
                    self.fail_over(i, &format!("getSignatureStatuses: {e}"));
                }
            }
        }
        Ok(false)
    }
}

fn on_chain_error(err: &TransactionError) -> ChainError {
    match tx_error_code(err) {
        Some(code) => ChainError::Program { code, name: error_name(code) },
        None => ChainError::Transaction(err.to_string()),
    }
}

/// Decodes an Anchor account (discriminator checked) with a clear error.
pub fn decode<T: AccountDeserialize>(key: &Pubkey, data: &[u8], what: &'static str) -> Result<T, ChainError> {
    T::try_deserialize(&mut &data[..]).map_err(|e| ChainError::Decode { key: *key, what, why: e.to_string() })
}
