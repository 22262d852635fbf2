//! Shared harness of the node tests: the real SmolLM2 engine (loaded once per test binary), a bootstrapped
//! in-process validator with short windows, and wallet helpers over real JSON-RPC.
#![allow(dead_code)]

use {
    anchor_lang::prelude::Pubkey,
    solana_keypair::Keypair,
    std::{path::PathBuf, sync::Arc, time::Duration},
    verity_oracle::{
        chain::{wallet, ChainClient},
        inference::{registry::SMOLLM2_135M, Dtype, Engine},
        node::{
            cluster::{Cluster, ClusterOptions},
            engine::Infer,
        },
    },
};

/// Tokens generated per test request (CPU inference: keep it small).
pub const MAX_TOKENS: u32 = 8;

/// The real engine (the default exact profile, oracle/NUMERICS.md).
pub fn engine() -> Arc<dyn Infer> {
    let dir = std::env::var_os("VERITY_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(verity_oracle::inference::fetch::default_models_dir);
    let path = dir.join(SMOLLM2_135M.file);
    assert!(path.exists(), "model {} missing: run `verity models fetch` first", path.display());
    let loaded =
        verity_oracle::inference::load(&SMOLLM2_135M, &path, Dtype::Exact, verity_oracle::inference::DeviceSpec::Cpu)
            .expect("model loads");
    Arc::new(Engine::start(loaded, 8))
}

/// A fresh network in the test's temp dir with `operators` operators, short windows (`window` slots) and
/// `node` tweaks; no node started yet.
pub async fn cluster(name: &str, operators: usize, window: u64, profile: [u8; 32]) -> Cluster {
    cluster_with(name, operators, window, profile, |_| {}).await
}

/// [`cluster`] with further changes to the options.
pub async fn cluster_with(
    name: &str,
    operators: usize,
    window: u64,
    profile: [u8; 32],
    tweak: impl FnOnce(&mut ClusterOptions),
) -> Cluster {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    let mut opts = ClusterOptions::new(operators, profile);
    opts.boot.config.commit_window = window;
    opts.boot.config.reveal_window = window;
    opts.boot.config.dispute_window = 5;
    opts.boot.config.assign_window = 30;
    opts.node.poll = Duration::from_millis(400);
    tweak(&mut opts);
    let t = std::time::Instant::now();
    let c = Cluster::launch(dir, opts).await.expect("localnet launch");
    eprintln!("localnet up in {:.1}s at {}", t.elapsed().as_secs_f64(), c.rpc_url());
    c
}

pub fn wallet(c: &Cluster) -> Keypair {
    c.net.deployment.wallet.insecure_clone()
}

pub fn ask(c: &Cluster, prompt: &str) -> wallet::Ask {
    wallet::Ask {
        model: c.net.deployment.model,
        prompt: prompt.as_bytes().to_vec(),
        max_tokens: MAX_TOKENS,
        fee: None,
        output_capacity: 512,
        sampling: verity::Sampling::GREEDY,
        prompt_uri: None,
    }
}

pub async fn submit(chain: &ChainClient, c: &Cluster, prompt: &str) -> Pubkey {
    wallet::submit(chain, &wallet(c), &ask(c, prompt)).await.expect("submit")
}

/// The text the engine produces for `prompt` (what every honest node must have committed to).
pub async fn expected_text(engine: &Arc<dyn Infer>, prompt: &str) -> String {
    engine
        .infer(engine.profiles()[0], verity_oracle::inference::Request::greedy(prompt, MAX_TOKENS))
        .await
        .expect("inference")
        .text
}

/// Runs the `verity` binary (blocking, off the runtime's workers): success, stdout, stderr.
pub async fn verity_cli(args: Vec<String>) -> (bool, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_verity"))
            .args(&args)
            .env("RUST_LOG", "error")
            .output()
            .expect("verity runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}
