//! `verity localnet`: an in-process test validator with the Verity program, bootstrapped (config, stake mint,
//! the model registered with this engine's profile hash, N staked operators) and N oracle nodes running in this
//! process; prints the RPC URL and keypair paths and runs until Ctrl-C.
use {
    super::ModelArgs,
    crate::node::{
        cluster::{Cluster, ClusterOptions},
        engine::Infer,
    },
    anyhow::Result,
    clap::Args,
    std::{path::PathBuf, sync::Arc},
};

#[derive(Args, Debug)]
pub struct LocalnetArgs {
    #[command(flatten)]
    pub m: ModelArgs,
    /// State directory (ledger, keys/, localnet.json, node stores); wiped at start.
    #[arg(long, default_value = ".localnet")]
    pub dir: PathBuf,
    /// Operators (and in-process nodes).
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    /// JSON-RPC port (websocket: port + 1); default: free ports.
    #[arg(long)]
    pub rpc_port: Option<u16>,
    /// Sequences the shared engine decodes together.
    #[arg(long, default_value_t = crate::defaults::LOCALNET_BATCH)]
    pub batch: usize,
}

/// Loads the engine, launches the network in `dir` and starts every node (one engine shared by the in-process
/// nodes: its output does not depend on batching, so each node's answer is what a separate engine would give).
pub async fn launch(
    m: &ModelArgs,
    dir: PathBuf,
    nodes: usize,
    rpc_port: Option<u16>,
    batch: usize,
) -> Result<(Cluster, Arc<dyn Infer>)> {
    anyhow::ensure!((1..=64).contains(&nodes), "--nodes must be 1..=64");
    let m2 = m.clone();
    let engine: Arc<dyn Infer> =
        Arc::new(tokio::task::spawn_blocking(move || super::infer::start_engine(&m2, batch, None)).await??);
    let mut opts = ClusterOptions::new(nodes, engine.profile_hash());
    opts.validator.rpc_port = rpc_port;
    let mut cluster = Cluster::launch(dir, opts).await?;
    cluster.start_all(engine.clone()).await?;
    Ok((cluster, engine))
}

pub fn run(a: LocalnetArgs) -> Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let (cluster, _engine) = launch(&a.m, a.dir.clone(), a.nodes, a.rpc_port, a.batch).await?;
        let info = &cluster.net.info;
        println!("Verity localnet is up ({} nodes running in this process)", cluster.nodes.len());
        println!("  RPC URL:       {}", info.rpc_url);
        println!("  WebSocket URL: {}", info.ws_url);
        println!("  program id:    {}", info.program_id);
        println!("  model:         {} ({}), profile {}", info.model.name, info.model.address, info.model.profile_hash);
        println!("  wallet:        {} ({})", info.wallet, info.wallet_keypair.display());
        for (i, op) in info.operators.iter().enumerate() {
            println!("  operator {i}:    {} ({})", op.authority, op.keypair.display());
        }
        println!("  state:         {}", cluster.dir.join(verity_localnet::INFO_FILE).display());
        println!("Try: verity request --localnet-dir {} \"What is 2+2?\"", a.dir.display());
        tokio::signal::ctrl_c().await?;
        println!("stopping");
        cluster.shutdown().await;
        Ok(())
    })
}
