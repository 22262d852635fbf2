//! `verity node --config node.toml`: runs one oracle node (engine + chain client + store + metrics server) until
//! Ctrl-C. Settings come from the TOML file with `VERITY_*` environment overrides (see `config`).
use {
    super::ModelArgs,
    crate::{
        chain::ChainClient,
        config::NodeConfig,
        metrics::{self, Metrics},
        node::{engine::Engines, Node, NodeOptions},
        store::Store,
    },
    anyhow::Result,
    clap::Args,
    std::{path::PathBuf, sync::Arc},
};

#[derive(Args, Debug)]
pub struct NodeArgs {
    /// TOML config file (keypair, rpc_urls, ws_url, model/models, dtype, device, concurrency, store_path, metrics_port, poll_ms,
    /// fetch_prompts, fetch_timeout_ms, fetch_private_hosts).
    #[arg(long, env = "VERITY_CONFIG")]
    pub config: PathBuf,
    /// Directory holding model files.
    #[arg(long, env = "VERITY_MODELS_DIR")]
    pub models_dir: Option<PathBuf>,
}

pub fn run(a: NodeArgs) -> Result<()> {
    let cfg = NodeConfig::load(&a.config)?;
    let keypair = verity_client::read_keypair(&cfg.keypair)?;
    let dtype = cfg.dtype().map_err(|e| anyhow::anyhow!("config: dtype: {e}"))?;
    let device: crate::inference::DeviceSpec =
        cfg.device.parse().map_err(|e| anyhow::anyhow!("config: device {:?}: {e}", cfg.device))?;
    let mut engines = Vec::new();
    for model in cfg.served_models() {
        let m = ModelArgs { model, models_dir: a.models_dir.clone(), dtype, device };
        engines.push((m.model.clone(), super::infer::start_engine(&m, cfg.concurrency.max(1), None)?));
    }
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let metrics = Metrics::default();
        if let Some(port) = cfg.metrics_port {
            let (addr, _task) = metrics::serve(&format!("0.0.0.0:{port}"), metrics.clone()).await?;
            tracing::info!("metrics on http://{addr}/metrics, health on /health");
        }
        let chain = ChainClient::new(&cfg.rpc_urls, metrics)?;
        check_registered(&chain, &engines).await?;
        let engine = Engines(engines.into_iter().map(|(_, e)| e).collect());
        let store = Store::open(&cfg.store_path)?;
        let opts = NodeOptions {
            poll: cfg.poll(),
            concurrency: cfg.concurrency,
            ws_url: cfg.ws_url.clone(),
            fetch: cfg.fetch(),
            ..Default::default()
        };
        let node = Arc::new(Node::new(chain, store, Arc::new(engine), keypair, opts)?);
        tokio::select! {
            _ = node.run() => {}
            _ = tokio::signal::ctrl_c() => tracing::info!("shutting down"),
        }
        Ok(())
    })
}

/// Each served model must match an active on-chain Model by profile hash; a mismatch names both hashes.
async fn check_registered(chain: &ChainClient, engines: &[(String, crate::inference::Engine)]) -> Result<()> {
    let models = chain.program_accounts::<verity::state::Model>("Model").await?;
    for (name, e) in engines {
        let mine = e.profile_hash();
        match models.iter().find(|(_, m)| m.profile_hash == mine) {
            Some((k, m)) => {
                if !m.active {
                    tracing::warn!("model {name}: on-chain model {} ({k}) is inactive", m.name);
                }
                tracing::info!("serving {name} as on-chain model {} ({k}), profile {}", m.name, hex::encode(mine));
            }
            None => {
                let known: Vec<String> =
                    models.iter().map(|(_, m)| format!("{} {}", m.name, hex::encode(m.profile_hash))).collect();
                anyhow::bail!(
                    "model {name}: its profile hash {} matches no on-chain Model (registered: {}); check dtype and model file",
                    hex::encode(mine),
                    if known.is_empty() { "none".into() } else { known.join(", ") }
                );
            }
        }
    }
    Ok(())
}
