//! Change notifications: a websocket `programSubscribe` on the Verity program wakes the node as soon as any of its
//! accounts changes; when the websocket is down (or not configured) the node still polls on its own interval, and
//! the subscription is re-established with backoff.
use {
    crate::defaults::{WS_BACKOFF_MAX, WS_BACKOFF_START},
    futures_util::StreamExt,
    solana_commitment_config::CommitmentConfig,
    solana_pubsub_client::nonblocking::pubsub_client::PubsubClient,
    solana_rpc_client_api::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig},
    std::sync::Arc,
    tokio::sync::Notify,
};

/// Spawns the websocket watcher for `ws_url`; each program-account notification calls `wake.notify_one()`.
/// Runs until the task is aborted.
pub fn spawn(ws_url: String, wake: Arc<Notify>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut backoff = WS_BACKOFF_START;
        loop {
            match subscribe_once(&ws_url, &wake).await {
                Ok(()) => tracing::warn!(%ws_url, "websocket subscription ended; polling until it is back"),
                Err(e) => tracing::warn!(%ws_url, "websocket unavailable ({e}); polling until it is back"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(WS_BACKOFF_MAX);
        }
    })
}

async fn subscribe_once(ws_url: &str, wake: &Notify) -> anyhow::Result<()> {
    let client = PubsubClient::new(ws_url).await?;
    let config = RpcProgramAccountsConfig {
        account_config: RpcAccountInfoConfig {
            commitment: Some(CommitmentConfig::confirmed()),
            encoding: Some(solana_account_decoder_client_types::UiAccountEncoding::Base64),
            ..Default::default()
        },
        ..Default::default()
    };
    let (mut stream, _unsubscribe) = client.program_subscribe(&verity::ID, Some(config)).await?;
    tracing::info!(%ws_url, "subscribed to program accounts");
    while stream.next().await.is_some() {
        wake.notify_one();
    }
    Ok(())
}
