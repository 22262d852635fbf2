//! The engine: one thread owns the model; requests arrive on a channel and are decoded together.
//!
//! Each request is validated and tokenized, then joins the running set (continuous batching: sequences join and
//! leave at any step). With the exact profile each scheduler round is one forward pass over every sequence: the
//! joining ones' prompts and the running ones' next token, linear layers over all rows at once (kernels whose
//! every row is the same bits as alone, oracle/NUMERICS.md), attention against each sequence's own KV cache.
//! The candle profiles prefill each joining prompt alone, then advance the running set by one token, fused
//! with candle's CPU f32 kernel, otherwise one step per sequence. Either way a request's tokens never depend on
//! what else is served.

use super::backend::Cache;
use super::loader::Loaded;
use super::profile::{output_hash, Profile};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use verity_exact::sample::{sample, Sampling};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("empty prompt")]
    EmptyPrompt,
    #[error("prompt is not valid UTF-8 (invalid byte at offset {0})")]
    InvalidUtf8(usize),
    #[error("prompt is {got} bytes; this model accepts at most {max}")]
    PromptTooManyBytes { got: usize, max: usize },
    #[error("prompt is {got} tokens with the chat template; this model accepts at most {max}")]
    PromptTooLong { got: usize, max: usize },
    #[error("max_tokens must be at least 1")]
    MaxTokensZero,
    #[error("max_tokens {got} is above this model's limit of {max}")]
    MaxTokensTooLarge { got: u32, max: usize },
    #[error("invalid sampling parameters: {0}")]
    Sampling(String),
    #[error("tokenizer error: {0}")]
    Tokenizer(String),
    #[error("compute error: {0}")]
    Compute(String),
    #[error("the engine has stopped")]
    Stopped,
}

/// One inference request.
#[derive(Debug, Clone)]
pub struct Request {
    /// Prompt bytes; must be valid UTF-8.
    pub prompt: Vec<u8>,
    pub max_tokens: u32,
    /// Temperature, top-p and seed (oracle/NUMERICS.md §7); greedy when the temperature is 0.
    pub sampling: Sampling,
    /// The RNG stream: the first 8 bytes (little-endian) of the Request account's address (0 off chain).
    pub stream: u64,
}

impl Request {
    /// A greedy request.
    pub fn greedy(prompt: impl Into<Vec<u8>>, max_tokens: u32) -> Request {
        Request { prompt: prompt.into(), max_tokens, sampling: Sampling::GREEDY, stream: 0 }
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finish {
    Stop,
    MaxTokens,
}

/// A finished generation.
#[derive(Debug, Clone)]
pub struct Generation {
    pub text: String,
    /// Generated token ids, stop token excluded.
    pub token_ids: Vec<u32>,
    pub prompt_tokens: usize,
    pub finish: Finish,
    pub output_hash: [u8; 32],
    /// Wall time from the start of prefill to the last token.
    pub elapsed: Duration,
    /// Largest batch this request's decode steps ran in.
    pub max_batch_seen: usize,
}

impl Generation {
    /// Generated tokens per second of wall time (prefill included).
    pub fn tokens_per_second(&self) -> f64 {
        let n = self.token_ids.len() as f64 + f64::from(u8::from(self.finish == Finish::Stop));
        n / self.elapsed.as_secs_f64().max(1e-9)
    }
}

type Reply = oneshot::Sender<Result<Generation, EngineError>>;

/// Cheap, cloneable handle to the engine thread.
#[derive(Clone)]
pub struct Engine {
    tx: mpsc::Sender<(Request, Reply)>,
    profile: Profile,
    profile_hash: [u8; 32],
}

struct Active {
    reply: Reply,
    cache: Cache,
    prompt_tokens: usize,
    /// Prompt tokens not yet in `cache` (the whole prompt until the sequence's first step).
    pending: Vec<u32>,
    generated: Vec<u32>,
    max_tokens: usize,
    sampling: Sampling,
    stream: u64,
    started: Instant,
    max_batch_seen: usize,
}

impl Engine {
    /// Start the engine thread; it decodes up to `max_batch` sequences together, its kernels on a pool of the
    /// global pool's size (`--threads` / RAYON_NUM_THREADS).
    pub fn start(loaded: Loaded, max_batch: usize) -> Engine {
        Self::spawn(loaded, max_batch, None)
    }

    /// [`Engine::start`] with the kernels on an own pool of `threads` threads (benchmarks compare thread counts
    /// in one process). The results do not depend on it.
    pub fn start_with_threads(loaded: Loaded, max_batch: usize, threads: usize) -> Engine {
        Self::spawn(loaded, max_batch, Some(threads))
    }

    fn spawn(loaded: Loaded, max_batch: usize, threads: Option<usize>) -> Engine {
        let (tx, rx) = mpsc::channel();
        let profile = loaded.profile.clone();
        let profile_hash = loaded.profile_hash;
        // The engine thread runs inside its own pool (of the global pool's size unless told): it is then one of
        // the workers, so a kernel's parallel loop starts on it instead of waking a pool thread and sleeping
        // until the loop is done (a cross-thread round trip per weight product: ~7% of `verity infer`'s perf
        // samples were such wake-ups and waits).
        let threads = threads.unwrap_or_else(rayon::current_num_threads).max(1);
        // A GPU holds a fixed number of sequences (its preallocated KV slots): never admit more at once.
        let max_batch = max_batch.clamp(1, loaded.model.max_sequences());
        let body = move || match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => pool.install(|| run(loaded, rx, max_batch)),
            Err(e) => tracing::error!("cannot build the engine's thread pool: {e}"),
        };
        std::thread::Builder::new()
            .name("verity-engine".into())
            .spawn(body)
            .map(drop)
            .unwrap_or_else(|e| tracing::error!("cannot spawn engine thread: {e}"));
        Engine { tx, profile, profile_hash }
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    pub fn profile_hash(&self) -> [u8; 32] {
        self.profile_hash
    }

    /// Submit a request; the result arrives on the returned receiver.
    pub fn submit(&self, req: Request) -> oneshot::Receiver<Result<Generation, EngineError>> {
        let (reply, rx) = oneshot::channel();
        if let Err(mpsc::SendError((_, reply))) = self.tx.send((req, reply)) {
            let _ = reply.send(Err(EngineError::Stopped));
        }
        rx
    }

    pub async fn generate(&self, req: Request) -> Result<Generation, EngineError> {
        self.submit(req).await.unwrap_or(Err(EngineError::Stopped))
    }

    /// Blocking variant for non-async callers (must not be called from inside a tokio runtime).
    pub fn generate_blocking(&self, req: Request) -> Result<Generation, EngineError> {
        self.submit(req).blocking_recv().unwrap_or(Err(EngineError::Stopped))
    }
}

fn run(m: Loaded, rx: mpsc::Receiver<(Request, Reply)>, max_batch: usize) {
    let mut active: Vec<Active> = Vec::new();
    loop {
        let mut incoming = Vec::new();
        if active.is_empty() {
            match rx.recv() {
                Ok(j) => incoming.push(j),
                Err(_) => return,
            }
        }
        while active.len() + incoming.len() < max_batch {
            match rx.try_recv() {
                Ok(j) => incoming.push(j),
                Err(_) => break,
            }
        }
        for (req, reply) in incoming {
            let started = Instant::now();
            match admit(&m, &req) {
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
                Ok((prompt, cache)) => active.push(Active {
                    reply,
                    cache,
                    prompt_tokens: prompt.len(),
                    pending: prompt,
                    generated: Vec::new(),
                    max_tokens: req.max_tokens as usize,
                    sampling: req.sampling,
                    stream: req.stream,
                    started,
                    max_batch_seen: 1,
                }),
            }
        }
        active = if m.model.fuses_prefill() { fused_round(&m, active) } else { interleaved_round(&m, active) };
    }
}

fn compute(e: impl std::fmt::Display) -> EngineError {
    EngineError::Compute(e.to_string())
}

/// The next token of `a` from its logits by its sampling parameters (NUMERICS.md §7; the step is the index of
/// the token in the output). A row without one (NaN logits) fails its own request only.
fn pick(a: &Active, logits: &[f32]) -> Result<u32, EngineError> {
    let step = u32::try_from(a.generated.len()).map_err(compute)?;
    let i = sample(logits, &a.sampling, a.stream, step).map_err(|e| EngineError::Compute(format!("no token: {e}")))?;
    u32::try_from(i).map_err(compute)
}

type Rows = Result<Vec<Result<Vec<f32>, EngineError>>, EngineError>;

fn ok_rows(rows: Vec<Vec<f32>>) -> Vec<Result<Vec<f32>, EngineError>> {
    rows.into_iter().map(Ok).collect()
}

/// Exact profile: one step of every sequence, the joining ones' prompts prefilled in the same forward pass as the
/// running ones' next token (continuous batching; each sequence's logits are the same bits as alone).
fn fused_round(m: &Loaded, mut all: Vec<Active>) -> Vec<Active> {
    if all.is_empty() {
        return all;
    }
    let (mut seqs, mut caches): (Vec<&[u32]>, Vec<&mut Cache>) = (Vec::new(), Vec::new());
    for Active { pending, generated, cache, .. } in all.iter_mut() {
        seqs.push(if pending.is_empty() { std::slice::from_ref(generated.last().unwrap_or(&0)) } else { pending });
        caches.push(cache);
    }
    let next = m.model.step(&seqs, &mut caches).map_err(compute).map(ok_rows);
    advance(m, all, next)
}

/// Candle profiles: each joining request prefilled alone, then one decode step of all running sequences, fused
/// where the kernels are batch-invariant (CPU f32), else one step per sequence with exactly the shapes it would
/// have alone (quantized and GPU matmuls are not guaranteed row-invariant across batch sizes).
fn interleaved_round(m: &Loaded, all: Vec<Active>) -> Vec<Active> {
    let mut active = Vec::with_capacity(all.len());
    for mut a in all {
        if a.pending.is_empty() {
            active.push(a);
            continue;
        }
        let prompt = std::mem::take(&mut a.pending);
        match m.model.prefill(&prompt, &mut a.cache).map_err(compute).and_then(|l| pick(&a, &l)) {
            Err(e) => {
                let _ = a.reply.send(Err(e));
            }
            Ok(first) => {
                a.generated.push(first);
                if let Some(a) = finish_if_done(m, a) {
                    active.push(a);
                }
            }
        }
    }
    if active.is_empty() {
        return active;
    }
    let tokens: Vec<u32> = active.iter().map(|a| *a.generated.last().unwrap_or(&0)).collect();
    let next = if m.model.batch_invariant_decode() {
        let mut caches: Vec<&mut Cache> = active.iter_mut().map(|a| &mut a.cache).collect();
        m.model.decode(&tokens, &mut caches).map_err(compute).map(ok_rows)
    } else {
        Ok(active
            .iter_mut()
            .zip(&tokens)
            .map(|(a, t)| {
                let rows = m.model.decode(&[*t], &mut [&mut a.cache]).map_err(compute)?;
                rows.into_iter().next().ok_or_else(|| EngineError::Compute("no logits".into()))
            })
            .collect())
    };
    advance(m, active, next)
}

/// Appends each sequence's next token (a failed forward pass fails them all, a failed row its own request) and
/// keeps those not done.
fn advance(m: &Loaded, all: Vec<Active>, next: Rows) -> Vec<Active> {
    let n = all.len();
    let next = next.and_then(|rows| {
        if rows.len() == n {
            Ok(rows)
        } else {
            Err(EngineError::Compute(format!("{} rows of logits for {n} sequences", rows.len())))
        }
    });
    match next {
        Err(e) => {
            for a in all {
                let _ = a.reply.send(Err(e.clone()));
            }
            Vec::new()
        }
        Ok(next) => {
            let mut still = Vec::with_capacity(n);
            for (mut a, row) in all.into_iter().zip(next) {
                let t = match row.and_then(|l| pick(&a, &l)) {
                    Ok(t) => t,
                    Err(e) => {
                        let _ = a.reply.send(Err(e));
                        continue;
                    }
                };
                a.pending.clear(); // the step fed the prompt (fused) or it was fed before (interleaved)
                a.generated.push(t);
                a.max_batch_seen = a.max_batch_seen.max(n);
                if let Some(a) = finish_if_done(m, a) {
                    still.push(a);
                }
            }
            still
        }
    }
}

/// Validate and tokenize; returns the prompt's token ids and an empty cache sized for prompt + output.
fn admit(m: &Loaded, req: &Request) -> Result<(Vec<u32>, Cache), EngineError> {
    let spec = &m.spec;
    if req.max_tokens == 0 {
        return Err(EngineError::MaxTokensZero);
    }
    req.sampling.validate().map_err(|e| EngineError::Sampling(e.to_string()))?;
    if req.max_tokens as usize > spec.max_output_tokens {
        return Err(EngineError::MaxTokensTooLarge { got: req.max_tokens, max: spec.max_output_tokens });
    }
    if req.prompt.len() > spec.max_prompt_bytes {
        return Err(EngineError::PromptTooManyBytes { got: req.prompt.len(), max: spec.max_prompt_bytes });
    }
    let prompt = std::str::from_utf8(&req.prompt).map_err(|e| EngineError::InvalidUtf8(e.valid_up_to()))?;
    if prompt.trim().is_empty() {
        return Err(EngineError::EmptyPrompt);
    }
    let ids = m.template.encode(&m.tokenizer, prompt).map_err(|e| EngineError::Tokenizer(e.to_string()))?;
    if ids.len() > spec.max_prompt_tokens {
        return Err(EngineError::PromptTooLong { got: ids.len(), max: spec.max_prompt_tokens });
    }
    let positions = ids.len() + req.max_tokens as usize + 1;
    let cache = m.model.new_cache(positions).map_err(compute)?;
    Ok((ids, cache))
}

/// If `a` hit a stop token, max_tokens or the context end, send its result and return None.
fn finish_if_done(m: &Loaded, mut a: Active) -> Option<Active> {
    let last = *a.generated.last()?;
    let finish = if m.profile.stop_tokens.contains(&last) {
        a.generated.pop();
        Finish::Stop
    } else if a.generated.len() >= a.max_tokens || a.cache.len() + 1 >= m.model.context() {
        Finish::MaxTokens
    } else {
        return Some(a);
    };
    let result =
        m.tokenizer.decode(&a.generated, false).map_err(|e| EngineError::Tokenizer(e.to_string())).map(|text| {
            Generation {
                output_hash: output_hash(&m.profile_hash, &text),
                text,
                token_ids: a.generated,
                prompt_tokens: a.prompt_tokens,
                finish,
                elapsed: a.started.elapsed(),
                max_batch_seen: a.max_batch_seen,
            }
        });
    let _ = a.reply.send(result);
    None
}
