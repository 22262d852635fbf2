//! The forward pass behind one interface: the exact profile's own engine (`crates/verity-exact`, its numerics
//! defined in oracle/NUMERICS.md; CPU) or candle (the f32 and q4_1 profiles; CPU or CUDA).
use super::model::{KvCache, Model};
use verity_exact::llama::{Cache as ExactCache, Llama, ModelError};

/// A loaded model.
pub enum Backend {
    Exact(Llama),
    Candle(Model),
}

/// One sequence's KV cache, of its backend.
pub enum Cache {
    Exact(ExactCache),
    Candle(KvCache),
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error(transparent)]
    Exact(#[from] ModelError),
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
            Backend::Candle(m) => m.cfg.context,
        }
    }

    /// Whether one decode step may fuse several sequences and still give each its own logits bits: always for
    /// the exact profile (by construction), only with the CPU f32 kernel for candle.
    pub fn batch_invariant_decode(&self) -> bool {
        match self {
            Backend::Exact(_) => true,
            Backend::Candle(m) => m.batch_invariant_decode(),
        }
    }

    /// An empty cache for a sequence of at most `positions` positions (preallocated by the exact backend).
    pub fn new_cache(&self, positions: usize) -> Result<Cache, BackendError> {
        Ok(match self {
            Backend::Exact(m) => Cache::Exact(m.new_cache(positions.min(m.cfg.context))?),
            Backend::Candle(m) => Cache::Candle(m.new_cache()),
        })
    }

    /// Prefills `tokens` into `cache`; the logits of the last position.
    pub fn prefill(&self, tokens: &[u32], cache: &mut Cache) -> Result<Vec<f32>, BackendError> {
        match (self, cache) {
            (Backend::Exact(m), Cache::Exact(c)) => m.forward(&[tokens], &mut [c])?.pop().ok_or(BackendError::Mismatch),
            (Backend::Candle(m), Cache::Candle(c)) => Ok(m.prefill(tokens, c)?),
            _ => Err(BackendError::Mismatch),
        }
    }

    /// Whether one step may mix the prefills of joining sequences with the decode of running ones and still
    /// give every sequence its own logits bits ([`Backend::step`]): the exact profile only.
    pub fn fuses_prefill(&self) -> bool {
        matches!(self, Backend::Exact(_))
    }

    /// One step of several sequences, `seqs[i]` (one or more new tokens: a prompt or the last token) appended to
    /// `caches[i]`; the logits of each sequence's last new token. Exact backend only (see
    /// [`Backend::fuses_prefill`]); candle serves [`Backend::prefill`] and [`Backend::decode`].
    pub fn step(&self, seqs: &[&[u32]], caches: &mut [&mut Cache]) -> Result<Vec<Vec<f32>>, BackendError> {
        let Backend::Exact(m) = self else { return Err(BackendError::Mismatch) };
        let mut cs = Vec::with_capacity(caches.len());
        for c in caches.iter_mut() {
            match &mut **c {
                Cache::Exact(c) => cs.push(c),
                Cache::Candle(_) => return Err(BackendError::Mismatch),
            }
        }
        Ok(m.forward(seqs, &mut cs)?)
    }

    /// One decode step of several sequences (`tokens[i]` appended to `caches[i]`); their logits.
    pub fn decode(&self, tokens: &[u32], caches: &mut [&mut Cache]) -> Result<Vec<Vec<f32>>, BackendError> {
        match self {
            Backend::Exact(_) => {
                let seqs: Vec<&[u32]> = tokens.chunks(1).collect();
                self.step(&seqs, caches)
            }
            Backend::Candle(m) => {
                let mut cs = Vec::with_capacity(caches.len());
                for c in caches.iter_mut() {
                    match &mut **c {
                        Cache::Candle(c) => cs.push(c),
                        Cache::Exact(_) => return Err(BackendError::Mismatch),
                    }
                }
                Ok(m.decode(tokens, &mut cs)?)
            }
        }
    }
}
