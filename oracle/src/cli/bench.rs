//! `verity bench infer`: candle (q4_1 and f32, batch 1 and batched) vs llama.cpp (xllamacpp) on the same
//! GGUF, the same token-id prompts (chat template applied by our tokenizer) and the same thread count.

use super::infer::{read_prompts, run_all};
use super::ModelArgs;
use crate::inference::{Dtype, Engine, Request};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

#[derive(Subcommand, Debug)]
pub enum BenchCmd {
    /// Compare candle and llama.cpp generation speed (tok/s = generated tokens / wall time, prefill included).
    Infer(BenchArgs),
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub m: ModelArgs,
    /// Prompts, one per line.
    #[arg(long, default_value = "bench/prompts.txt")]
    pub prompts_file: PathBuf,
    #[arg(long, default_value_t = 32)]
    pub max_tokens: u32,
    /// Concurrent sequences for the batched runs.
    #[arg(long, default_value_t = 4)]
    pub batch: usize,
    /// Python with `xllamacpp` installed (scripts/bench-infer.sh makes a venv).
    #[arg(long, env = "VERITY_BENCH_PYTHON", default_value = "python3")]
    pub python: String,
    /// The llama.cpp driver script.
    #[arg(long, default_value = "bench/llamacpp_bench.py")]
    pub llamacpp_script: PathBuf,
}

/// Tokens and seconds of one run.
#[derive(Debug, Clone, Copy)]
struct Run {
    tokens: usize,
    secs: f64,
}

impl Run {
    fn tps(self) -> f64 {
        self.tokens as f64 / self.secs.max(1e-9)
    }
}

/// Candle results: batch-1 run, batched run, the prompts' token ids, the batch-1 texts.
type CandleRuns = (Run, Run, Vec<Vec<u32>>, Vec<String>);

fn candle_runs(a: &BenchArgs, dtype: Dtype, prompts: &[Vec<u8>]) -> Result<CandleRuns> {
    let m = ModelArgs { dtype, ..a.m.clone() };
    let loaded = crate::inference::load(m.spec()?, &m.model_path()?, dtype, &m.device.open()?)?;
    let ids = prompts
        .iter()
        .map(|p| loaded.template.encode(&loaded.tokenizer, std::str::from_utf8(p)?).map_err(Into::into))
        .collect::<Result<Vec<_>>>()?;
    let engine = Engine::start(loaded, a.batch);
    engine.generate_blocking(Request { prompt: b"warm up".to_vec(), max_tokens: 2 }).context("warm-up generation")?;
    let t = Instant::now();
    let mut tokens = 0;
    let mut texts = Vec::new();
    for p in prompts {
        let g = engine.generate_blocking(Request { prompt: p.clone(), max_tokens: a.max_tokens })?;
        tokens += g.token_ids.len();
        texts.push(g.text);
    }
    let single = Run { tokens, secs: t.elapsed().as_secs_f64() };
    let batched = timed_batched(&engine, prompts, a.max_tokens)?;
    Ok((single, batched, ids, texts))
}

fn timed_batched(engine: &Engine, prompts: &[Vec<u8>], max_tokens: u32) -> Result<Run> {
    let t = Instant::now();
    let mut tokens = 0;
    for r in run_all(engine, prompts, max_tokens) {
        tokens += r?.token_ids.len();
    }
    Ok(Run { tokens, secs: t.elapsed().as_secs_f64() })
}

fn llamacpp_runs(a: &BenchArgs, threads: usize, ids: &[Vec<u32>]) -> Result<(Run, Run, Vec<String>)> {
    let tmp = std::env::temp_dir().join(format!("verity-bench-{}.json", std::process::id()));
    std::fs::write(&tmp, serde_json::to_vec(ids)?)?;
    let out = Command::new(&a.python)
        .arg(&a.llamacpp_script)
        .arg(a.m.model_path()?)
        .args([threads.to_string(), a.max_tokens.to_string(), a.batch.to_string()])
        .arg(&tmp)
        .stderr(std::process::Stdio::null())
        .output()
        .with_context(|| format!("cannot run `{} {}`", a.python, a.llamacpp_script.display()))?;
    let _ = std::fs::remove_file(&tmp);
    if !out.status.success() {
        bail!(
            "llama.cpp bench failed ({}); is xllamacpp installed for `{}`? (scripts/bench-infer.sh)",
            out.status,
            a.python
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).context("llama.cpp bench output")?;
    let run = |k: &str| -> Result<Run> {
        let tokens = v[k]["tokens"].as_u64().context("tokens")? as usize;
        Ok(Run { tokens, secs: v[k]["secs"].as_f64().context("secs")? })
    };
    let texts = v["batch1"]["texts"]
        .as_array()
        .context("texts")?
        .iter()
        .map(|t| t.as_str().unwrap_or("").to_string())
        .collect();
    Ok((run("batch1")?, run("batched")?, texts))
}

pub fn run(cmd: BenchCmd) -> Result<()> {
    let BenchCmd::Infer(a) = cmd;
    let prompts = read_prompts(None, Some(&a.prompts_file))?;
    let threads = candle_core::utils::get_num_threads();
    println!(
        "bench: {} prompts, max_tokens {}, {threads} threads, batch {}, device {}, model {}",
        prompts.len(),
        a.max_tokens,
        a.batch,
        a.m.device,
        a.m.model_path()?.display()
    );
    let (q1, qb, ids, q_texts) = candle_runs(&a, Dtype::Q4_1, &prompts)?;
    println!(
        "candle q4_1: batch 1 {:.1} tok/s ({} tok / {:.1} s), batched {:.1} tok/s",
        q1.tps(),
        q1.tokens,
        q1.secs,
        qb.tps()
    );
    let (f1, fb, _, _) = candle_runs(&a, Dtype::F32, &prompts)?;
    println!(
        "candle f32:  batch 1 {:.1} tok/s ({} tok / {:.1} s), batched {:.1} tok/s",
        f1.tps(),
        f1.tokens,
        f1.secs,
        fb.tps()
    );
    let (l1, lb, l_texts) = llamacpp_runs(&a, threads, &ids)?;
    println!(
        "llama.cpp:   batch 1 {:.1} tok/s ({} tok / {:.1} s), batched {:.1} tok/s",
        l1.tps(),
        l1.tokens,
        l1.secs,
        lb.tps()
    );
    let same = q_texts.iter().zip(&l_texts).filter(|(a, b)| a == b).count();
    println!("q4_1 greedy texts identical to llama.cpp: {same}/{}", prompts.len());
    println!("candle {:.1} tok/s, llama.cpp {:.1} tok/s, ratio {:.3}", q1.tps(), l1.tps(), q1.tps() / l1.tps());
    println!("candle f32 {:.1} tok/s, llama.cpp {:.1} tok/s, ratio {:.3}", f1.tps(), l1.tps(), f1.tps() / l1.tps());
    println!(
        "batched aggregate (batch {}): candle q4_1 {:.1} tok/s, candle f32 {:.1} tok/s, llama.cpp {:.1} tok/s",
        a.batch,
        qb.tps(),
        fb.tps(),
        lb.tps()
    );
    Ok(())
}
