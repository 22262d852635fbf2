//! `verity infer`: run one prompt or a prompts file; human-readable or `--json` (one object per prompt).

use super::ModelArgs;
use crate::inference::{Engine, Generation, Request};
use anyhow::{bail, Context, Result};
use clap::Args;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Instant;
use verity_exact::sample::Sampling;

#[derive(Args, Debug)]
pub struct InferArgs {
    #[command(flatten)]
    pub m: ModelArgs,
    /// Maximum number of generated tokens.
    #[arg(long, default_value_t = 64)]
    pub max_tokens: u32,
    /// Print one JSON object per prompt.
    #[arg(long)]
    pub json: bool,
    /// Read prompts from this file, one per line (blank lines skipped).
    #[arg(long)]
    pub prompts_file: Option<PathBuf>,
    /// Most sequences decoded together (1 = strictly one at a time).
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Refuse to run unless the local profile hash equals this (hex).
    #[arg(long)]
    pub expect_profile: Option<String>,
    /// Run one short generation before timing (CUDA JIT / cuBLAS init on a fresh process).
    #[arg(long)]
    pub warmup: bool,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// Reproduce an on-chain request's sampling: its Request account address (the RNG stream, §7).
    #[arg(long)]
    pub request: Option<String>,
    /// The prompt (when no --prompts-file).
    pub prompt: Option<OsString>,
}

/// Decoding flags of `verity request` and `verity infer` (oracle/NUMERICS.md §7).
#[derive(Args, Debug, Clone, Default)]
pub struct SamplingArgs {
    /// Sampling temperature, 0..=2 in steps of 0.001 (0 = greedy, the default).
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f64,
    /// Nucleus (top-p) mass, (0, 1] in steps of 0.001.
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f64,
    /// RNG seed (default: random when sampling; printed so the answer can be reproduced).
    #[arg(long)]
    pub seed: Option<u64>,
}

impl SamplingArgs {
    /// The parameters in milli-units, range-checked; an unset seed of a sampled request is `new_seed()`.
    pub fn resolve(&self, new_seed: impl FnOnce() -> u64) -> Result<Sampling> {
        let milli = |x: f64, what: &str, max: f64| -> Result<u16> {
            anyhow::ensure!(x.is_finite() && (0.0..=max).contains(&x), "--{what} must be in 0..={max}, got {x}");
            Ok((x * 1000.0).round() as u16)
        };
        let temperature_milli = milli(self.temperature, "temperature", 2.0)?;
        let top_p_milli = milli(self.top_p, "top-p", 1.0)?;
        anyhow::ensure!(top_p_milli >= 1, "--top-p must be at least 0.001");
        let seed = match (self.seed, temperature_milli) {
            (Some(s), _) => s,
            (None, 0) => 0,
            (None, _) => {
                let s = new_seed();
                eprintln!("sampling with seed {s} (pass --seed {s} to reproduce)");
                s
            }
        };
        Ok(Sampling { temperature_milli, top_p_milli, seed })
    }
}

/// Prompt bytes from the argument or the file (one per line, `\r\n` tolerated, blank lines skipped).
pub fn read_prompts(prompt: Option<&OsString>, file: Option<&Path>) -> Result<Vec<Vec<u8>>> {
    match (prompt, file) {
        (Some(_), Some(_)) => bail!("give either a prompt or --prompts-file, not both"),
        (None, None) => bail!("no prompt: pass a prompt argument or --prompts-file"),
        (Some(p), None) => Ok(vec![os_bytes(p)]),
        (None, Some(f)) => {
            let data = std::fs::read(f).with_context(|| format!("cannot read prompts file {}", f.display()))?;
            let prompts: Vec<Vec<u8>> = data
                .split(|b| *b == b'\n')
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
                .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
                .collect();
            if prompts.is_empty() {
                bail!("prompts file {} has no prompts", f.display());
            }
            Ok(prompts)
        }
    }
}

#[cfg(unix)]
fn os_bytes(s: &OsString) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    s.as_os_str().as_bytes().to_vec()
}

#[cfg(not(unix))]
fn os_bytes(s: &OsString) -> Vec<u8> {
    s.to_string_lossy().into_owned().into_bytes()
}

/// Load the model named by `m` and start an engine (checking `expect_profile` first).
pub fn start_engine(m: &ModelArgs, batch: usize, expect_profile: Option<&str>) -> Result<Engine> {
    let t = Instant::now();
    let loaded = crate::inference::load(m.spec()?, &m.model_path()?, m.dtype, m.device)?;
    if let Some(want) = expect_profile {
        loaded.check_profile(want)?;
    }
    tracing::info!(secs = t.elapsed().as_secs_f64(), profile = %hex::encode(loaded.profile_hash), "model loaded");
    Ok(Engine::start(loaded, batch))
}

/// Submit all prompts at once (the engine batches them) and wait for every result, in input order.
pub fn run_all(
    engine: &Engine,
    prompts: &[Vec<u8>],
    max_tokens: u32,
    sampling: Sampling,
    stream: u64,
) -> Vec<Result<Generation, crate::inference::EngineError>> {
    let rxs: Vec<_> =
        prompts.iter().map(|p| engine.submit(Request { prompt: p.clone(), max_tokens, sampling, stream })).collect();
    rxs.into_iter().map(|rx| rx.blocking_recv().unwrap_or(Err(crate::inference::EngineError::Stopped))).collect()
}

pub fn run(a: InferArgs) -> Result<()> {
    let prompts = read_prompts(a.prompt.as_ref(), a.prompts_file.as_deref())?;
    let engine = start_engine(&a.m, a.batch, a.expect_profile.as_deref())?;
    let profile_hex = hex::encode(engine.profile_hash());
    if a.warmup {
        engine.generate_blocking(Request::greedy(b"warm up".to_vec(), 2))?;
    }
    let t = Instant::now();
    let sampling = a.sampling.resolve(|| 0)?;
    let stream = match &a.request {
        Some(r) => stream_of(r)?,
        None => 0,
    };
    let results = run_all(&engine, &prompts, a.max_tokens, sampling, stream);
    let params = a.m.spec()?.params;
    let flops = |g: &Generation| 2 * params * (g.prompt_tokens + g.token_ids.len()) as u64;
    let wall = t.elapsed().as_secs_f64();
    let mut failed = 0usize;
    let mut total_tokens = 0usize;
    for (i, r) in results.iter().enumerate() {
        let g = match r {
            Ok(g) => g,
            Err(e) => {
                failed += 1;
                eprintln!("error: prompt {}: {e}", i + 1);
                continue;
            }
        };
        total_tokens += g.token_ids.len();
        if a.json {
            let o = serde_json::json!({
                "index": i,
                "text": g.text,
                "token_ids": g.token_ids,
                "output_hash": hex::encode(g.output_hash),
                "profile_hash": profile_hex,
                "tokens_in": g.prompt_tokens,
                "tokens_out": g.token_ids.len(),
                "finish": g.finish,
                "tok_per_s": g.tokens_per_second(),
                "batch": g.max_batch_seen,
                "device": a.m.device.to_string(),
                "dtype": a.m.dtype.as_str(),
                "sampling": {
                    "temperature_milli": sampling.temperature_milli,
                    "top_p_milli": sampling.top_p_milli,
                    "seed": sampling.seed,
                    "stream": stream,
                },
                "params": params,
                "approx_flops": flops(g),
            });
            println!("{o}");
        } else {
            println!("{}", g.text);
            println!(
                "-- tokens: {} (prompt {}, {:?}) | ≈{:.2e} FLOPs | output_hash: {} | tok/s: {:.1}",
                g.token_ids.len(),
                g.prompt_tokens,
                g.finish,
                flops(g) as f64,
                hex::encode(g.output_hash),
                g.tokens_per_second()
            );
        }
    }
    if prompts.len() > 1 {
        eprintln!(
            "aggregate: {} prompts, {total_tokens} tokens in {wall:.2} s = {:.1} tok/s (batch up to {}), profile {profile_hex}",
            prompts.len(),
            total_tokens as f64 / wall.max(1e-9),
            a.batch
        );
    } else if !a.json && failed == 0 {
        println!("-- profile_hash: {profile_hex}");
    }
    if failed > 0 {
        bail!("{failed} of {} prompts failed", prompts.len());
    }
    Ok(())
}

/// The RNG stream of a request (§7): the first 8 bytes of its base58 address, little-endian.
pub fn stream_of(address: &str) -> Result<u64> {
    let bytes = bs58::decode(address).into_vec().with_context(|| format!("--request {address} is not base58"))?;
    let head: [u8; 8] = bytes.get(..8).and_then(|b| b.try_into().ok()).context("--request is too short")?;
    anyhow::ensure!(bytes.len() == 32, "--request must be a 32-byte address");
    Ok(u64::from_le_bytes(head))
}
