//! `verity infer`: run one prompt or a prompts file; human-readable or `--json` (one object per prompt).

use super::ModelArgs;
use crate::inference::{Engine, Generation, Request};
use anyhow::{bail, Context, Result};
use clap::Args;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Instant;

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
    /// The prompt (when no --prompts-file).
    pub prompt: Option<OsString>,
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
    let device = m.device.open()?;
    let t = Instant::now();
    let loaded = crate::inference::load(m.spec()?, &m.model_path()?, m.dtype, &device)?;
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
) -> Vec<Result<Generation, crate::inference::EngineError>> {
    let rxs: Vec<_> = prompts.iter().map(|p| engine.submit(Request { prompt: p.clone(), max_tokens })).collect();
    rxs.into_iter().map(|rx| rx.blocking_recv().unwrap_or(Err(crate::inference::EngineError::Stopped))).collect()
}

pub fn run(a: InferArgs) -> Result<()> {
    let prompts = read_prompts(a.prompt.as_ref(), a.prompts_file.as_deref())?;
    let engine = start_engine(&a.m, a.batch, a.expect_profile.as_deref())?;
    let profile_hex = hex::encode(engine.profile_hash());
    if a.warmup {
        engine.generate_blocking(Request { prompt: b"warm up".to_vec(), max_tokens: 2 })?;
    }
    let t = Instant::now();
    let results = run_all(&engine, &prompts, a.max_tokens);
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
            });
            println!("{o}");
        } else {
            println!("{}", g.text);
            println!(
                "-- tokens: {} (prompt {}, {:?}) | output_hash: {} | tok/s: {:.1}",
                g.token_ids.len(),
                g.prompt_tokens,
                g.finish,
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
