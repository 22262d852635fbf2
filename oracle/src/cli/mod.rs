//! The `verity` command line: `models fetch|profile`, `infer`, `bench infer`.

pub mod bench;
pub mod infer;
pub mod models;

use crate::inference::registry::{self, ModelSpec};
use crate::inference::{Dtype, DeviceSpec};
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
    Bench(bench::BenchCmd),
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
    /// Compute dtype of the profile: `f32` (default, CPU/GPU-agreeing) or `q4_1` (native quantized).
    #[arg(long, default_value = "f32")]
    pub dtype: Dtype,
    /// Device: `cpu`, `cuda` or `cuda:N`.
    #[arg(long, default_value = "cpu", env = "VERITY_DEVICE")]
    pub device: DeviceSpec,
}

impl ModelArgs {
    pub fn spec(&self) -> Result<&'static ModelSpec> {
        registry::find(&self.model).ok_or_else(|| anyhow!("unknown model `{}` (known: {})", self.model, registry::names()))
    }
    pub fn models_dir(&self) -> PathBuf {
        self.models_dir.clone().unwrap_or_else(crate::inference::fetch::default_models_dir)
    }
    pub fn model_path(&self) -> Result<PathBuf> {
        Ok(self.models_dir().join(self.spec()?.file))
    }
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Models(c) => models::run(c),
        Cmd::Infer(a) => infer::run(a),
        Cmd::Bench(c) => bench::run(c),
    }
}
