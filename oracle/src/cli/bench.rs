//! `verity bench infer`: the default (exact) profile vs llama.cpp (xllamacpp) on the same GGUF and the same
//! token-id prompts (chat template applied by our tokenizer), at each thread count and batch width asked, all in
//! one run: `X tok/s vs llama.cpp Y tok/s, ratio X/Y` (generated tokens / wall time, prefill included).

use super::infer::run_all;
use super::ModelArgs;
use crate::inference::{Engine, Request};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;
use verity_exact::sample::Sampling;

#[derive(Subcommand, Debug)]
pub enum BenchCmd {
    /// Compare the engine's and llama.cpp's generation speed on the same file and token ids.
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
    /// Thread counts to compare, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub thread_counts: Vec<usize>,
    /// Batch widths (sequences decoded together), comma-separated; 1 runs the prompts one after another.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16")]
    pub batches: Vec<usize>,
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

/// The prompts, cycled to at least `n` (a batch of 16 needs 16 sequences).
fn cycled(prompts: &[Vec<u8>], n: usize) -> Vec<Vec<u8>> {
    prompts.iter().cycle().take(n.max(prompts.len())).cloned().collect()
}

/// The engine at `threads` threads: one run per batch width, and the greedy texts of the width-1 run.
fn engine_runs(a: &BenchArgs, threads: usize, prompts: &[Vec<u8>]) -> Result<(Vec<Run>, Vec<String>)> {
    let loaded = crate::inference::load(a.m.spec()?, &a.m.model_path()?, a.m.dtype, a.m.device)?;
    let widest = a.batches.iter().copied().max().unwrap_or(1);
    let engine = Engine::start_with_threads(loaded, widest, threads);
    engine.generate_blocking(Request::greedy(b"warm up".to_vec(), 2)).context("warm-up generation")?;
    let mut runs = Vec::new();
    let mut texts = Vec::new();
    for &width in &a.batches {
        let ps = cycled(prompts, width);
        let t = Instant::now();
        let mut tokens = 0;
        for chunk in ps.chunks(width.max(1)) {
            for r in run_all(&engine, chunk, a.max_tokens, Sampling::GREEDY, 0) {
                let g = r?;
                tokens += g.token_ids.len();
                if width == 1 {
                    texts.push(g.text);
                }
            }
        }
        runs.push(Run { tokens, secs: t.elapsed().as_secs_f64() });
    }
    Ok((runs, texts))
}

/// llama.cpp at `threads` threads on the same token ids: one run per batch width, and the width-1 texts.
fn llamacpp_runs(a: &BenchArgs, threads: usize, ids: &[Vec<u32>]) -> Result<(Vec<Run>, Vec<String>)> {
    let tmp = std::env::temp_dir().join(format!("verity-bench-{}.json", std::process::id()));
    std::fs::write(&tmp, serde_json::to_vec(ids)?)?;
    let widths: Vec<String> = a.batches.iter().map(usize::to_string).collect();
    let out = Command::new(&a.python)
        .arg(&a.llamacpp_script)
        .arg(a.m.model_path()?)
        .args([threads.to_string(), a.max_tokens.to_string(), widths.join(",")])
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
    let mut runs = Vec::new();
    for w in &widths {
        let r = &v[format!("b{w}")];
        let tokens = r["tokens"].as_u64().context("tokens")? as usize;
        runs.push(Run { tokens, secs: r["secs"].as_f64().context("secs")? });
    }
    let texts = v["b1"]["texts"]
        .as_array()
        .map(|t| t.iter().map(|t| t.as_str().unwrap_or("").to_string()).collect())
        .unwrap_or_default();
    Ok((runs, texts))
}

pub fn run(cmd: BenchCmd) -> Result<()> {
    let BenchCmd::Infer(a) = cmd;
    let prompts = super::infer::read_prompts(None, Some(&a.prompts_file))?;
    let widest = a.batches.iter().copied().max().unwrap_or(1);
    let prompts = cycled(&prompts, widest);
    let loaded = crate::inference::load(a.m.spec()?, &a.m.model_path()?, a.m.dtype, a.m.device)?;
    let ids = prompts
        .iter()
        .map(|p| loaded.template.encode(&loaded.tokenizer, std::str::from_utf8(p)?).map_err(Into::into))
        .collect::<Result<Vec<_>>>()?;
    println!(
        "bench: {} prompts, max_tokens {}, profile {} ({}), device {}, model {}",
        prompts.len(),
        a.max_tokens,
        a.m.dtype,
        hex::encode(loaded.profile_hash),
        a.m.device,
        a.m.model_path()?.display()
    );
    drop(loaded);
    for &threads in &a.thread_counts {
        let (ours, texts) = engine_runs(&a, threads, &prompts)?;
        let (theirs, l_texts) = llamacpp_runs(&a, threads, &ids)?;
        for ((width, x), y) in a.batches.iter().zip(&ours).zip(&theirs) {
            println!(
                "threads {threads}, batch {width:>2}: {} {:.1} tok/s vs llama.cpp {:.1} tok/s, ratio {:.3}  ({} vs {} tokens)",
                a.m.dtype,
                x.tps(),
                y.tps(),
                x.tps() / y.tps().max(1e-9),
                x.tokens,
                y.tokens
            );
        }
        let same = texts.iter().zip(&l_texts).filter(|(a, b)| a == b).count();
        println!("threads {threads}: greedy texts identical to llama.cpp's: {same}/{}", texts.len());
        if let (Some(one), Some(wide)) = (ours.first(), ours.last()) {
            println!("threads {threads}: batch {widest} aggregate / batch 1 = {:.2}", wide.tps() / one.tps().max(1e-9));
        }
    }
    Ok(())
}
