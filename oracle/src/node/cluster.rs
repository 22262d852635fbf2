//! A local network plus in-process oracle nodes: the in-process test validator from `verity-localnet`
//! (bootstrapped with the engine's profile hash) and one node task per operator, each with its own store and
//! keypair. Used by `verity localnet`, `verity demo`, `verity bench e2e` and the node tests (which kill, restart,
//! corrupt or route nodes through a faulty RPC proxy).
use {
    super::{engine::Infer, Node, NodeOptions},
    crate::{chain::ChainClient, metrics::Metrics, store::Store},
    solana_keypair::Keypair,
    std::{path::PathBuf, sync::Arc, time::Duration},
    verity_localnet::{BootstrapOptions, LocalnetOptions, Network},
};

/// One operator's node slot.
pub struct NodeSlot {
    pub keypair: Keypair,
    pub store_path: PathBuf,
    pub metrics: Metrics,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl NodeSlot {
    pub fn running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }
}

/// A running network with its node slots.
pub struct Cluster {
    pub net: Network,
    pub dir: PathBuf,
    pub nodes: Vec<NodeSlot>,
    pub opts: NodeOptions,
}

/// Options of [`Cluster::launch`].
pub struct ClusterOptions {
    pub boot: BootstrapOptions,
    pub validator: LocalnetOptions,
    pub node: NodeOptions,
}

impl ClusterOptions {
    /// `operators` staked operators serving a model with `profile_hash`; localnet defaults otherwise (its nodes
    /// also fetch URI prompts from loopback and private hosts: a local network serves them from there).
    pub fn new(operators: usize, profile_hash: [u8; 32]) -> ClusterOptions {
        let mut node = NodeOptions::default();
        node.fetch.allow_private = true;
        ClusterOptions {
            boot: BootstrapOptions::new(operators, profile_hash),
            validator: LocalnetOptions::default(),
            node,
        }
    }
}

impl Cluster {
    /// Starts the validator in `dir`, bootstraps it, and prepares (does not start) one node slot per operator.
    pub async fn launch(dir: PathBuf, opts: ClusterOptions) -> anyhow::Result<Cluster> {
        let net = verity_localnet::launch(&dir, opts.validator, &opts.boot).await?;
        let mut node_opts = opts.node;
        node_opts.ws_url.get_or_insert_with(|| net.info.ws_url.clone());
        let nodes = net
            .deployment
            .operators
            .iter()
            .enumerate()
            .map(|(i, op)| NodeSlot {
                keypair: op.authority.insecure_clone(),
                store_path: dir.join(format!("node-{i}")).join("store.redb"),
                metrics: Metrics::default(),
                task: None,
            })
            .collect();
        Ok(Cluster { net, dir, nodes, opts: node_opts })
    }

    pub fn rpc_url(&self) -> &str {
        &self.net.info.rpc_url
    }

    /// A client of the network's RPC endpoint (fresh metrics).
    pub fn client(&self) -> anyhow::Result<ChainClient> {
        ChainClient::new(&[self.rpc_url().to_string()], Metrics::default())
    }

    /// Starts node `i` with `engine` over the network's RPC endpoint.
    pub async fn start(&mut self, i: usize, engine: Arc<dyn Infer>) -> anyhow::Result<()> {
        let urls = vec![self.rpc_url().to_string()];
        self.start_with(i, engine, &urls, self.opts.clone()).await
    }

    /// Starts node `i` with `engine` over `rpc_urls` (e.g. a faulty proxy first) and `opts`.
    pub async fn start_with(
        &mut self,
        i: usize,
        engine: Arc<dyn Infer>,
        rpc_urls: &[String],
        opts: NodeOptions,
    ) -> anyhow::Result<()> {
        let slot = self.nodes.get_mut(i).ok_or_else(|| anyhow::anyhow!("no operator {i}"))?;
        anyhow::ensure!(!slot.running(), "node {i} is already running");
        let chain = ChainClient::new(rpc_urls, slot.metrics.clone())?;
        let store = open_store_retrying(&slot.store_path).await?;
        let node = Arc::new(Node::new(chain, store, engine, slot.keypair.insecure_clone(), opts)?);
        slot.task = Some(tokio::spawn(node.run()));
        Ok(())
    }

    /// Kills node `i` at whatever point it is (its task and every step task are aborted).
    /// Stops every node first (so none reports the validator going away), then the validator (quietly).
    pub async fn shutdown(mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i).await;
        }
        drop(self);
    }

    pub async fn kill(&mut self, i: usize) {
        if let Some(task) = self.nodes.get_mut(i).and_then(|s| s.task.take()) {
            task.abort();
            let _ = task.await;
        }
    }

    /// Starts every node slot with the same engine.
    pub async fn start_all(&mut self, engine: Arc<dyn Infer>) -> anyhow::Result<()> {
        for i in 0..self.nodes.len() {
            self.start(i, engine.clone()).await?;
        }
        Ok(())
    }
}

/// Opens the store, waiting briefly for a killed node's step tasks to release it.
async fn open_store_retrying(path: &std::path::Path) -> anyhow::Result<Store> {
    let mut last = None;
    for _ in 0..50 {
        match Store::open(path) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(last.unwrap_or_else(|| anyhow::anyhow!("cannot open store {}", path.display())))
}
