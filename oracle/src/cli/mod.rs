//! The `verity` command line: `models fetch|profile`, `infer`, `bench infer|e2e`, `node`, `request`, `operator`,
//! `localnet`, `demo` (the last three with feature `localnet`).

pub mod bench;
#[cfg(feature = "localnet")]
pub mod cpu;
#[cfg(feature = "localnet")]
pub mod demo;
pub mod infer;
#[cfg(feature = "localnet")]
pub mod localnet;
pub mod models;
#[cfg(feature = "node")]
pub mod node;
#[cfg(feature = "node")]
pub mod operator;
#[cfg(feature = "node")]
pub mod request;

use crate::inference::registry::{self, ModelSpec};
use crate::inference::{DeviceSpec, Dtype};
use anyhow::{anyhow, Result};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "verity", version, about = "Verity oracle node: verifiable inference")]
pub struct Cli {
    /// CPU threads for the compute kernels (sets RAYON_NUM_THREADS before any work starts).
    #[arg(long, global = true, env = "VERITY_THREADS")]
    pub threads: Option<usize>,
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Manage local model files.
    #[command(subcommand)]
    Models(models::ModelsCmd),
    /// Run prompts through the engine and print text, token count, output hash and tok/s.
    Infer(infer::InferArgs),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchAll),
    #[cfg(feature = "node")]
    /// Run an oracle node (config file + VERITY_* env overrides).
    Node(node::NodeArgs),
    #[cfg(feature = "node")]
    /// Submit a prompt as a wallet and wait for the output; `request show <pubkey>` for a receipt.
    Request(request::RequestArgs),
    #[cfg(feature = "node")]
    /// Operator registration and stake.
    Operator(operator::OperatorArgs),
    #[cfg(feature = "localnet")]
    /// A local validator with the program, bootstrapped, and N nodes in this process.
    Localnet(localnet::LocalnetArgs),
    #[cfg(feature = "localnet")]
    /// Localnet + 3 nodes + a wallet submitting prompts; prints outputs and receipts.
    Demo(demo::DemoArgs),
}

#[derive(Subcommand, Debug)]
pub enum BenchAll {
    /// Compare candle and llama.cpp generation speed (tok/s = generated tokens / wall time, prefill included).
    Infer(bench::BenchArgs),
    #[cfg(feature = "localnet")]
    /// End to end: requests finalized per minute and request→finalized latency with N local nodes.
    E2e(demo::BenchE2eArgs),
}

/// Options shared by every command that loads a model.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// Model name (see `verity models list`).
    #[arg(long, default_value = "smollm2-135m")]
    pub model: String,
    /// Directory holding model files.
    #[arg(long, env = "VERITY_MODELS_DIR")]
    pub models_dir: Option<PathBuf>,
    /// Compute profile: `exact` (default; oracle/NUMERICS.md: the same bits on every conforming CPU and GPU, batch
    /// and thread count, by construction), `f32` (candle, CPU/GPU-agreeing by measurement; CUDA) or `q4_1`
    /// (candle's quantized kernels; CPU and CUDA disagree).
    #[arg(long, default_value = "exact", env = "VERITY_DTYPE")]
    pub dtype: Dtype,
    /// Device: `cpu`, `cuda` or `cuda:N` (the exact profile's CUDA kernels need a build with `--features
    /// exact-cuda`; candle's f32/q4_1 `--features cuda`), or `emu` (the exact profile's GPU kernels emulated on the
    /// CPU: slow, for tests).
    #[arg(long, default_value = "cpu", env = "VERITY_DEVICE")]
    pub device: DeviceSpec,
}

impl ModelArgs {
    pub fn spec(&self) -> Result<&'static ModelSpec> {
        registry::find(&self.model)
            .ok_or_else(|| anyhow!("unknown model `{}` (known: {})", self.model, registry::names()))
    }
    pub fn models_dir(&self) -> PathBuf {
        self.models_dir.clone().unwrap_or_else(crate::inference::fetch::default_models_dir)
    }
    pub fn model_path(&self) -> Result<PathBuf> {
        Ok(self.models_dir().join(self.spec()?.file))
    }
}

/// Native builds of the program print its `msg!` lines (and the validator a few progress lines) to stdout. This
/// sends the process's stdout (fd 1) to `log` and returns a handle on the original stdout for the command's own
/// report, so `verity demo` prints only its results.
#[cfg(feature = "localnet")]
pub fn divert_stdout(log: &std::path::Path) -> Result<std::fs::File> {
    use std::os::fd::{AsRawFd, FromRawFd};
    std::io::Write::flush(&mut std::io::stdout())?;
    let file = std::fs::File::create(log)?;
    // SAFETY: dup/dup2 act on descriptors that are open (1 and `file`'s); the returned File takes ownership of the
    // fresh descriptor from dup, and `file` may close its own after dup2 copied it onto fd 1.
    unsafe {
        let saved = libc::dup(1);
        anyhow::ensure!(saved >= 0, "dup(stdout) failed");
        anyhow::ensure!(libc::dup2(file.as_raw_fd(), 1) >= 0, "dup2 onto stdout failed");
        Ok(std::fs::File::from_raw_fd(saved))
    }
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Models(c) => models::run(c),
        Cmd::Infer(a) => infer::run(a),
        Cmd::Bench(BenchAll::Infer(a)) => bench::run(bench::BenchCmd::Infer(a)),
        #[cfg(feature = "localnet")]
        Cmd::Bench(BenchAll::E2e(a)) => demo::bench(a),
        #[cfg(feature = "node")]
        Cmd::Node(a) => node::run(a),
        #[cfg(feature = "node")]
        Cmd::Request(a) => request::run(a),
        #[cfg(feature = "node")]
        Cmd::Operator(a) => operator::run(a),
        #[cfg(feature = "localnet")]
        Cmd::Localnet(a) => localnet::run(a),
        #[cfg(feature = "localnet")]
        Cmd::Demo(a) => demo::run(a),
    }
}
