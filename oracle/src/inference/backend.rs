//! The forward pass behind one interface: the exact profile's own engine (`crates/verity-exact`, its numerics
//! defined in oracle/NUMERICS.md; on the CPU, or on a GPU with the same bits) or candle (the f32 and q4_1
//! profiles; CPU or CUDA).
use super::gpu::{ExactGpu, GpuCache};
use super::model::{KvCache, Model};
use verity_exact::llama::{Cache as ExactCache, Llama, ModelError};

/// A loaded model.
pub enum Backend {
    Exact(Llama),
    /// The exact profile on a GPU device (or its CPU emulator).
    ExactGpu(ExactGpu),
    Candle(Model),
}

/// One sequence's KV cache, of its backend.
pub enum Cache {
    Exact(ExactCache),
    ExactGpu(GpuCache),
    Candle(KvCache),
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Exact(#[from] ModelError),
    #[error(transparent)]
    Gpu(#[from] verity_exact::gpu::GpuError),
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    #[error("a cache of the other backend was passed")]
    Mismatch,
}

impl Cache {
    /// Positions held.
    pub fn len(&self) -> usize {
        match self {
            Cache::Exact(c) => c.len(),
            Cache::ExactGpu(c) => c.len(),
            Cache::Candle(c) => c.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Backend {
    /// Positions a sequence may reach (prompt + output).
    pub fn context(&self) -> usize {
        match self {
            Backend::Exact(m) => m.cfg.context,
            Backend::ExactGpu(g) => g.context(),
            Backend::Candle(m) => m.cfg.context,
        }
    }

    /// Sequences the backend holds at once (a GPU's preallocated KV slots; unbounded on the CPU).
    pub fn max_sequences(&self) -> usize {
        match self {
            Backend::ExactGpu(g) => g.slots(),
            Backend::Exact(_) | Backend::Candle(_) => usize::MAX,
        }
    }

    /// Whether one decode step may fuse several sequences and still give each its own logits bits: always for
    /// the exact profile (by construction), only with the CPU f32 kernel for candle.
    pub fn batch_invariant_decode(&self) -> bool {
        match self {
            Backend::Exact(_) | Backend::ExactGpu(_) => true,
            Backend::Candle(m) => m.batch_invariant_decode(),
        }
    }

    /// An empty cache for a sequence of at most `positions` positions (preallocated by the exact backend).
    pub fn new_cache(&self, positions: usize) -> Result<Cache, BackendError> {
        Ok(match self {
            Backend::Exact(m) => Cache::Exact(m.new_cache(positions.min(m.cfg.context))?),
            Backend::ExactGpu(g) => Cache::ExactGpu(g.new_cache(positions.min(g.context()))?),
            Backend::Candle(m) => Cache::Candle(m.new_cache()),
        })
    }

    /// Prefills `tokens` into `cache`; the logits of the last position.
    pub fn prefill(&self, tokens: &[u32], cache: &mut Cache) -> Result<Vec<f32>, BackendError> {
        match (self, cache) {
            (Backend::Exact(m), Cache::Exact(c)) => m.forward(&[tokens], &mut [c])?.pop().ok_or(BackendError::Mismatch),
            (Backend::ExactGpu(g), Cache::ExactGpu(c)) => {
                g.step(&[tokens], &mut [c])?.pop().ok_or(BackendError::Mismatch)
            }
            (Backend::Candle(m), Cache::Candle(c)) => Ok(m.prefill(tokens, c)?),
            _ => Err(BackendError::Mismatch),
        }
    }

    /// Whether one step may mix the prefills of joining sequences with the decode of running ones and still
    /// give every sequence its own logits bits ([`Backend::step`]): the exact profile only.
    pub fn fuses_prefill(&self) -> bool {
        matches!(self, Backend::Exact(_) | Backend::ExactGpu(_))
    }

    /// One step of several sequences, `seqs[i]` (one or more new tokens: a prompt or the last token) appended to
    /// `caches[i]`; the logits of each sequence's last new token. Exact backend only (see
    /// [`Backend::fuses_prefill`]); candle serves [`Backend::prefill`] and [`Backend::decode`].
    pub fn step(&self, seqs: &[&[u32]], caches: &mut [&mut Cache]) -> Result<Vec<Vec<f32>>, BackendError> {
        match self {
            Backend::Exact(m) => {
                let mut cs = of_kind(caches, |c| if let Cache::Exact(c) = c { Some(c) } else { None })?;
                Ok(m.forward(seqs, &mut cs)?)
            }
            Backend::ExactGpu(g) => {
                let mut cs = of_kind(caches, |c| if let Cache::ExactGpu(c) = c { Some(c) } else { None })?;
                Ok(g.step(seqs, &mut cs)?)
            }
            Backend::Candle(_) => Err(BackendError::Mismatch),
        }
    }

    /// One decode step of several sequences (`tokens[i]` appended to `caches[i]`); their logits.
    pub fn decode(&self, tokens: &[u32], caches: &mut [&mut Cache]) -> Result<Vec<Vec<f32>>, BackendError> {
        match self {
            Backend::Exact(_) | Backend::ExactGpu(_) => {
                let seqs: Vec<&[u32]> = tokens.chunks(1).collect();
                self.step(&seqs, caches)
            }
            Backend::Candle(m) => {
                let mut cs = of_kind(caches, |c| if let Cache::Candle(c) = c { Some(c) } else { None })?;
                Ok(m.decode(tokens, &mut cs)?)
            }
        }
    }
}

/// The caches as one backend's kind (`pick` gives None for another's: [`BackendError::Mismatch`]).
fn of_kind<'a, T>(
    caches: &'a mut [&mut Cache],
    pick: impl Fn(&'a mut Cache) -> Option<&'a mut T>,
) -> Result<Vec<&'a mut T>, BackendError> {
    caches.iter_mut().map(|c| pick(c).ok_or(BackendError::Mismatch)).collect()
}
