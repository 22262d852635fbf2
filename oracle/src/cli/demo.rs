//! `verity demo` (the README's main command): a localnet with 3 nodes, a wallet submits a few prompts, and each
//! output is printed with its receipt (committee, agreement, tokens, slots, fee split); exits 0 when every request
//! finalized with its output on chain. `verity bench e2e` measures requests finalized per minute and the
//! request→finalized latency (slots and seconds) on the same setup. Both print what the requests cost: the
//! transactions that landed per request by instruction (all senders, successful and failed, read back from the
//! ledger), the nodes' sends, and the CPU seconds of the validator and of the rest (nodes, engine, wallet). Both
//! end with an orderly `Cluster::shutdown` (nodes, then the validator, which closes quietly), so a good run ends on
//! its summary.
use {
    super::{cpu::CpuTimes, ModelArgs},
    crate::{
        chain::{ledger, pda, wallet, ChainClient},
        node::cluster::Cluster,
    },
    anchor_lang::prelude::Pubkey,
    anyhow::Result,
    clap::Args,
    std::{
        io::Write,
        path::PathBuf,
        time::{Duration, Instant},
    },
    verity::state::{Output, Request, RequestStatus},
};

#[derive(Args, Debug)]
pub struct DemoArgs {
    #[command(flatten)]
    pub m: ModelArgs,
    /// State directory (wiped at start).
    #[arg(long, default_value = ".localnet-demo")]
    pub dir: PathBuf,
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    #[arg(long, default_value_t = 24)]
    pub max_tokens: u32,
    /// Prompts to submit to every model (default: three questions to the first model; a code prompt and a
    /// sampled one to each other model).
    #[arg(long = "prompt")]
    pub prompts: Vec<String>,
    /// Models to serve, comma-separated (default: `--model` and every other fetched model).
    #[arg(long, value_delimiter = ',')]
    pub models: Vec<String>,
}

const DEFAULT_PROMPTS: [&str; 3] =
    ["What is 2+2?", "Name three primary colors.", "Explain in one sentence what an oracle is."];
const CODE_PROMPT: &str = "Write a Python function that returns the sum of a list of numbers.";
const SAMPLED_PROMPT: &str = "Write a short poem about a lighthouse.";
/// The demo's sampled request: temperature 0.8, top-p 0.95, seed 7 (NUMERICS.md §7).
const DEMO_SAMPLING: verity::Sampling = verity::Sampling { temperature_milli: 800, top_p_milli: 950, seed: 7 };

/// What the demo asks: (model index in localnet.json, prompt, sampling).
fn plan(user: &[String], models: usize) -> Vec<(usize, String, verity::Sampling)> {
    let greedy = verity::Sampling::GREEDY;
    if !user.is_empty() {
        return (0..models).flat_map(|m| user.iter().map(move |p| (m, p.clone(), greedy))).collect();
    }
    let mut v: Vec<_> = DEFAULT_PROMPTS.iter().map(|p| (0, p.to_string(), greedy)).collect();
    for m in 1..models {
        v.push((m, CODE_PROMPT.to_string(), greedy));
        v.push((m, SAMPLED_PROMPT.to_string(), DEMO_SAMPLING));
    }
    v
}

pub fn run(a: DemoArgs) -> Result<()> {
    let models = super::localnet::served_models(&a.m, &a.models)?;
    let names: Vec<&str> = models.iter().map(|m| m.model.as_str()).collect();
    std::fs::create_dir_all(&a.dir)?;
    let log = a.dir.join("program.log");
    let mut report = std::io::LineWriter::new(super::divert_stdout(&log)?);
    macro_rules! say {
        ($($t:tt)*) => {{
            let _ = writeln!(report, $($t)*);
        }};
    }
    say!(
        "Verity demo: local validator + {} oracle nodes serving {} ({} profile); program logs go to {}",
        a.nodes,
        names.join(", "),
        a.m.dtype,
        log.display()
    );
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let t0 = Instant::now();
        let (cluster, _engine) =
            super::localnet::launch(&models, a.dir.clone(), a.nodes, None, crate::defaults::LOCALNET_BATCH).await?;
        say!("localnet up in {:.1}s: {} ({} nodes)", t0.elapsed().as_secs_f64(), cluster.rpc_url(), a.nodes);
        let info = &cluster.net.info;
        for m in &info.models {
            let model: verity::state::Model =
                cluster.client()?.account(&verity_client::LocalnetInfo::pubkey(&m.address)?, "Model").await?;
            say!(
                "model {}: {} — {} lamports per 1k tokens, profile {}…",
                m.id,
                m.name,
                model.price_per_token.saturating_mul(1000),
                &m.profile_hash[..16]
            );
        }
        let chain = cluster.client()?;
        let kp = cluster.net.deployment.wallet.insecure_clone();
        let run = RunStart::now(&chain).await?;
        let mut keys = Vec::new();
        for (m, p, sampling) in plan(&a.prompts, info.models.len()) {
            let ask = wallet::Ask {
                model: verity_client::LocalnetInfo::pubkey(&info.models[m].address)?,
                prompt: p.as_bytes().to_vec(),
                max_tokens: a.max_tokens,
                fee: None,
                output_capacity: 1024,
                sampling,
                prompt_uri: None,
            };
            let label = format!("[{}, {}] {p}", info.models[m].name, wallet::sampling_label(&sampling));
            keys.push((label, wallet::submit(&chain, &kp, &ask).await?, Instant::now()));
        }
        say!("submitted {} requests as wallet {}", keys.len(), cluster.net.info.wallet);
        let (mut ok, mut lat) = (true, Latencies::default());
        for (p, key, t) in &keys {
            let r = wallet::wait_final(&chain, key, Duration::from_secs(600)).await?;
            lat.record(&r, *t);
            let out = if r.status == RequestStatus::Finalized {
                wallet::wait_output(&chain, key, Duration::from_secs(120)).await?;
                chain.account::<Output>(&pda::output(key), "Output").await.ok()
            } else {
                ok = false;
                None
            };
            say!("\n> {p}");
            if let Some(o) = &out {
                say!("{}", String::from_utf8_lossy(&o.data));
            }
            let _ = write!(report, "{}", wallet::describe(key, &r, None));
        }
        say!("\n{} requests in {:.1}s", keys.len(), t0.elapsed().as_secs_f64());
        say!("{} requests, {} nodes, max_tokens {}: {}", keys.len(), a.nodes, a.max_tokens, lat.summary(run.at));
        say!("waiting for the nodes to claim the rewards (after the dispute window), so every payout is counted…");
        let finalized: Vec<Pubkey> = keys.iter().map(|(_, k, _)| *k).collect();
        say!("{}", wait_claimed(&chain, &finalized).await?);
        say!("{}", run.costs(&cluster, &chain, keys.len()).await?);
        cluster.shutdown().await;
        anyhow::ensure!(ok, "not every request finalized");
        Ok(())
    })
}

#[derive(Args, Debug)]
pub struct BenchE2eArgs {
    #[command(flatten)]
    pub m: ModelArgs,
    #[arg(long, default_value = ".localnet-bench")]
    pub dir: PathBuf,
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    /// Requests submitted (all at once).
    #[arg(long, default_value_t = 6)]
    pub requests: usize,
    #[arg(long, default_value_t = 16)]
    pub max_tokens: u32,
}

/// Requests finalized per minute and median / p95 request→finalized latency, with `nodes` nodes on this machine.
pub fn bench(a: BenchE2eArgs) -> Result<()> {
    std::fs::create_dir_all(&a.dir)?;
    let mut report = std::io::LineWriter::new(super::divert_stdout(&a.dir.join("program.log"))?);
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let (cluster, _engine) = super::localnet::launch(
            std::slice::from_ref(&a.m),
            a.dir.clone(),
            a.nodes,
            None,
            crate::defaults::LOCALNET_BATCH,
        )
        .await?;
        let chain = cluster.client()?;
        let kp = cluster.net.deployment.wallet.insecure_clone();
        let run = RunStart::now(&chain).await?;
        let mut keys = Vec::new();
        for i in 0..a.requests {
            let ask = wallet::Ask {
                model: cluster.net.deployment.model,
                prompt: format!("Question {i}: name a fruit and its color.").into_bytes(),
                max_tokens: a.max_tokens,
                fee: None,
                output_capacity: 1024,
                sampling: verity::Sampling::GREEDY,
                prompt_uri: None,
            };
            keys.push((wallet::submit(&chain, &kp, &ask).await?, Instant::now()));
        }
        let mut lat = Latencies::default();
        for (key, t) in &keys {
            let r = wallet::wait_final(&chain, key, Duration::from_secs(900)).await?;
            anyhow::ensure!(r.status == RequestStatus::Finalized, "request {key} ended {:?}", r.status);
            lat.record(&r, *t);
        }
        writeln!(
            report,
            "{} requests, {} nodes, max_tokens {}: {}",
            a.requests,
            a.nodes,
            a.max_tokens,
            lat.summary(run.at)
        )?;
        let finalized: Vec<Pubkey> = keys.iter().map(|(k, _)| *k).collect();
        writeln!(report, "{}", wait_claimed(&chain, &finalized).await?)?;
        writeln!(report, "{}", run.costs(&cluster, &chain, a.requests).await?)?;
        cluster.shutdown().await;
        Ok(())
    })
}

/// Submit → final latencies of a run's requests, in seconds (wall clock) and slots.
#[derive(Default)]
struct Latencies {
    secs: Vec<f64>,
    slots: Vec<u64>,
}

impl Latencies {
    /// Records request `r` (final now), submitted at `sent`.
    fn record(&mut self, r: &Request, sent: Instant) {
        self.secs.push(sent.elapsed().as_secs_f64());
        self.slots.push(r.finalized_slot.saturating_sub(r.submit_slot));
    }

    /// "N finalized/min; latency median …s / … slots, p95 …" for a run that started at `start`.
    fn summary(&mut self, start: Instant) -> String {
        let n = self.secs.len();
        if n == 0 {
            return "no request".into();
        }
        self.secs.sort_by(f64::total_cmp);
        self.slots.sort_unstable();
        let pick = |q: f64| ((n as f64 - 1.0) * q).round() as usize;
        format!(
            "{:.2} finalized/min; latency median {:.1}s / {} slots, p95 {:.1}s / {} slots",
            n as f64 * 60.0 / start.elapsed().as_secs_f64().max(1e-9),
            self.secs[pick(0.5)],
            self.slots[pick(0.5)],
            self.secs[pick(0.95)],
            self.slots[pick(0.95)]
        )
    }
}

/// Waits (at most [`CLAIM_WAIT`]) until every reward of the finalized `keys` was claimed by the nodes, so that a
/// run's costs include every payout; says how long after the last finalize that took.
async fn wait_claimed(chain: &ChainClient, keys: &[Pubkey]) -> Result<String> {
    let start = Instant::now();
    loop {
        let mut open = 0;
        for k in keys {
            let r: Request = chain.account(k, "Request").await?;
            open += usize::from(r.status == RequestStatus::Finalized && r.rewards_claimed < r.rewards_total);
        }
        let waited = start.elapsed();
        if open == 0 {
            return Ok(format!("rewards: every one claimed {:.1}s after the last finalize", waited.as_secs_f64()));
        }
        if waited >= CLAIM_WAIT {
            return Ok(format!("rewards: {open} requests still unclaimed after {}s", CLAIM_WAIT.as_secs()));
        }
        tokio::time::sleep(crate::defaults::WALLET_POLL).await;
    }
}

/// How long a run waits for the nodes' claims (the localnet's dispute window is 25 slots).
const CLAIM_WAIT: Duration = Duration::from_secs(120);

/// Where a measured run started: its first slot, CPU times and wall clock.
struct RunStart {
    slot: u64,
    cpu: CpuTimes,
    at: Instant,
}

impl RunStart {
    async fn now(chain: &ChainClient) -> Result<RunStart> {
        Ok(RunStart { slot: chain.slot().await?, cpu: CpuTimes::sample(), at: Instant::now() })
    }

    /// What the run's `requests` requests cost so far: landed transactions per request (by instruction), the
    /// nodes' sends, CPU seconds of the validator and of the rest.
    async fn costs(&self, cluster: &Cluster, chain: &ChainClient, requests: usize) -> Result<String> {
        let (cpu, wall) = (CpuTimes::sample().since(&self.cpu), self.at.elapsed().as_secs_f64());
        let landed = ledger::landed_since(chain, self.slot).await?;
        let n = requests.max(1) as f64;
        let sent: u64 = cluster.nodes.iter().map(|node| node.metrics.counter("tx_sent")).sum();
        let infer_micros: u64 = cluster.nodes.iter().map(|node| node.metrics.counter("infer_micros")).sum();
        let infer = infer_micros as f64 / 1e6 / (n * cluster.nodes.len().max(1) as f64);
        Ok(format!(
            "transactions per request: {:.1} landed ({:.1} failed), all senders; the nodes sent {:.1} per request \
             (retries and preflight refusals included)\n  by instruction, per request: {}\n\
             inference (prefill to last token, batched): {infer:.2}s per node and request (mean)\n\
             CPU over {wall:.1}s: validator {:.1}s ({:.0}% of a core), nodes + engine + wallet {:.1}s ({:.0}%)",
            landed.total() as f64 / n,
            landed.failed() as f64 / n,
            sent as f64 / n,
            landed.describe(n),
            cpu.validator,
            100.0 * cpu.validator / wall.max(1e-9),
            cpu.rest(),
            100.0 * cpu.rest() / wall.max(1e-9),
        ))
    }
}
