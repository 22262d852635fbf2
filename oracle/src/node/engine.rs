//! The inference seam of the node: a trait the node drives (the real candle engine implements it; state-machine
//! unit tests may use a fake), and the dishonesty hook the fault tests use.
use std::{future::Future, pin::Pin};

/// One finished generation as the node needs it.
#[derive(Clone, Debug)]
pub struct Inferred {
    pub text: String,
    pub tokens_in: u32,
    pub tokens_out: u32,
    pub secs: f64,
}

pub type InferFuture = Pin<Box<dyn Future<Output = anyhow::Result<Inferred>> + Send>>;

/// What the node needs from an inference engine.
pub trait Infer: Send + Sync {
    /// Profile hash of the served model (must equal the request's snapshot for the node to serve it).
    fn profile_hash(&self) -> [u8; 32];
    /// Generates the greedy output for `prompt`.
    fn infer(&self, prompt: Vec<u8>, max_tokens: u32) -> InferFuture;
}

impl Infer for crate::inference::Engine {
    fn profile_hash(&self) -> [u8; 32] {
        crate::inference::Engine::profile_hash(self)
    }
    fn infer(&self, prompt: Vec<u8>, max_tokens: u32) -> InferFuture {
        let engine = self.clone();
        Box::pin(async move {
            let g = engine.generate(crate::inference::Request { prompt, max_tokens }).await?;
            Ok(Inferred {
                tokens_in: u32::try_from(g.prompt_tokens)?,
                tokens_out: u32::try_from(g.token_ids.len())?,
                secs: g.elapsed.as_secs_f64(),
                text: g.text,
            })
        })
    }
}

/// Test hook: a dishonest engine that alters every output of the engine it wraps (so its hash differs from the
/// honest majority's and the node is slashed as Minority).
pub struct Corrupt<E>(pub E);

impl<E: Infer> Infer for Corrupt<E> {
    fn profile_hash(&self) -> [u8; 32] {
        self.0.profile_hash()
    }
    fn infer(&self, prompt: Vec<u8>, max_tokens: u32) -> InferFuture {
        let inner = self.0.infer(prompt, max_tokens);
        Box::pin(async move {
            let mut out = inner.await?;
            out.text.push_str(" [tampered]");
            Ok(out)
        })
    }
}

impl<T: Infer + ?Sized> Infer for std::sync::Arc<T> {
    fn profile_hash(&self) -> [u8; 32] {
        (**self).profile_hash()
    }
    fn infer(&self, prompt: Vec<u8>, max_tokens: u32) -> InferFuture {
        (**self).infer(prompt, max_tokens)
    }
}
