//! `verity localnet`: an in-process test validator with the Verity program, bootstrapped (config, stake mint,
//! every served model registered with its engine's profile hash, N staked operators serving them all) and N
//! oracle nodes running in this process; prints the RPC URL and keypair paths and runs until Ctrl-C.
use {
    super::ModelArgs,
    crate::{
        inference::registry::{self, ModelSpec},
        node::{
            cluster::{Cluster, ClusterOptions},
            engine::{Engines, Infer},
        },
    },
    anyhow::Result,
    clap::Args,
    std::{path::PathBuf, sync::Arc},
    verity::state::ModelParams,
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
    /// Models to serve and register, comma-separated (default: `--model` and every other fetched model).
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<String>,
}

/// The models a localnet serves: `names`, or else `m.model` followed by every other registry model whose file
/// is in the models dir (in registry order).
pub fn served_models(m: &ModelArgs, names: &[String]) -> Result<Vec<ModelArgs>> {
    let with = |name: &str| ModelArgs { model: name.to_string(), ..m.clone() };
    let list: Vec<ModelArgs> = if names.is_empty() {
        let present = |s: &&ModelSpec| s.name != m.model && m.models_dir().join(s.file).exists();
        std::iter::once(with(&m.model)).chain(registry::MODELS.iter().filter(present).map(|s| with(s.name))).collect()
    } else {
        names.iter().map(|n| with(n)).collect()
    };
    for a in &list {
        a.spec()?;
    }
    Ok(list)
}

/// Localnet price of a model: 1 000 lamports per token per started 150 M parameters (SmolLM2-135M: 1 000,
/// Qwen2.5-Coder-0.5B: 4 000, 1.5B: 11 000), so bigger models cost more per token.
pub fn localnet_price(spec: &ModelSpec) -> u64 {
    1_000 * spec.params.div_ceil(150_000_000).max(1)
}

/// The on-chain entry of `spec` served with `profile_hash` (the localnet's limits; prompts up to the engine's
/// byte limit, at most what a `Prompt` account holds).
pub fn onchain_params(spec: &ModelSpec, profile_hash: [u8; 32]) -> ModelParams {
    ModelParams {
        name: format!("{}-instruct", spec.name),
        price_per_token: localnet_price(spec),
        max_input_bytes: u32::try_from(spec.max_prompt_bytes).unwrap_or(u32::MAX).min(verity::MAX_LONG_PROMPT_BYTES),
        param_count: spec.params,
        ..verity_localnet::bootstrap::smollm2_params(profile_hash)
    }
}

/// Loads an engine per model, launches the network in `dir` with every model registered (ids 1, 2, … in order)
/// and starts every node (the engines shared by the in-process nodes: their output does not depend on batching,
/// so each node's answer is what a separate engine would give).
pub async fn launch(
    models: &[ModelArgs],
    dir: PathBuf,
    nodes: usize,
    rpc_port: Option<u16>,
    batch: usize,
) -> Result<(Cluster, Arc<dyn Infer>)> {
    anyhow::ensure!((1..=64).contains(&nodes), "--nodes must be 1..=64");
    anyhow::ensure!(!models.is_empty(), "no model to serve");
    let mut engines = Vec::with_capacity(models.len());
    for m in models {
        let m2 = m.clone();
        engines.push(tokio::task::spawn_blocking(move || super::infer::start_engine(&m2, batch, None)).await??);
    }
    let mut params = models.iter().zip(&engines).map(|(m, e)| Ok(onchain_params(m.spec()?, e.profile_hash())));
    let first: ModelParams = params.next().unwrap_or_else(|| Err(anyhow::anyhow!("no model to serve")))?;
    let mut opts = ClusterOptions::new(nodes, first.profile_hash);
    opts.boot.model = first;
    opts.boot.extra_models = params.collect::<Result<Vec<_>>>()?;
    let engine: Arc<dyn Infer> = Arc::new(Engines(engines));
    opts.validator.rpc_port = rpc_port;
    let mut cluster = Cluster::launch(dir, opts).await?;
    cluster.start_all(engine.clone()).await?;
    Ok((cluster, engine))
}

pub fn run(a: LocalnetArgs) -> Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let models = served_models(&a.m, &a.models)?;
        let (cluster, _engine) = launch(&models, a.dir.clone(), a.nodes, a.rpc_port, a.batch).await?;
        let info = &cluster.net.info;
        println!("Verity localnet is up ({} nodes running in this process)", cluster.nodes.len());
        println!("  RPC URL:       {}", info.rpc_url);
        println!("  WebSocket URL: {}", info.ws_url);
        println!("  program id:    {}", info.program_id);
        for m in &info.models {
            println!("  model {}:       {} ({}), profile {}", m.id, m.name, m.address, m.profile_hash);
        }
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
