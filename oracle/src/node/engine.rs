//! The inference seam of the node: a trait the node drives (the real engines implement it, one per served
//! model, behind [`Engines`]; state-machine unit tests may use a fake), and the dishonesty hook the fault tests
//! use.
use {
    crate::inference::{Engine, Request},
    std::{future::Future, pin::Pin},
};

/// One finished generation as the node needs it.
#[derive(Clone, Debug)]
pub struct Inferred {
    pub text: String,
    pub tokens_in: u32,
    pub tokens_out: u32,
    pub secs: f64,
}

pub type InferFuture = Pin<Box<dyn Future<Output = anyhow::Result<Inferred>> + Send>>;

/// What the node needs from its inference engines.
pub trait Infer: Send + Sync {
    /// Profile hashes of the served models (a request is served only when its snapshot is one of them).
    fn profiles(&self) -> Vec<[u8; 32]>;
    /// Generates the output of `req` (its prompt, max_tokens and sampling) with the model of profile `profile`.
    fn infer(&self, profile: [u8; 32], req: Request) -> InferFuture;
}

fn infer_on(engine: &Engine, req: Request) -> InferFuture {
    let engine = engine.clone();
    Box::pin(async move {
        let g = engine.generate(req).await?;
        Ok(Inferred {
            tokens_in: u32::try_from(g.prompt_tokens)?,
            tokens_out: u32::try_from(g.token_ids.len())?,
            secs: g.elapsed.as_secs_f64(),
            text: g.text,
        })
    })
}

fn unserved(profile: [u8; 32]) -> InferFuture {
    Box::pin(async move { anyhow::bail!("no engine serves profile {}", hex::encode(profile)) })
}

impl Infer for Engine {
    fn profiles(&self) -> Vec<[u8; 32]> {
        vec![self.profile_hash()]
    }
    fn infer(&self, profile: [u8; 32], req: Request) -> InferFuture {
        if profile == self.profile_hash() {
            infer_on(self, req)
        } else {
            unserved(profile)
        }
    }
}

/// The engines of every model a node serves, each on its own thread, chosen by the request's profile hash.
#[derive(Clone, Default)]
pub struct Engines(pub Vec<Engine>);

impl Infer for Engines {
    fn profiles(&self) -> Vec<[u8; 32]> {
        self.0.iter().map(Engine::profile_hash).collect()
    }
    fn infer(&self, profile: [u8; 32], req: Request) -> InferFuture {
        match self.0.iter().find(|e| e.profile_hash() == profile) {
            Some(e) => infer_on(e, req),
            None => unserved(profile),
        }
    }
}

/// Test hook: a dishonest engine that alters every output of the engine it wraps (so its hash differs from the
/// honest majority's and the node is slashed as Minority).
pub struct Corrupt<E>(pub E);

impl<E: Infer> Infer for Corrupt<E> {
    fn profiles(&self) -> Vec<[u8; 32]> {
        self.0.profiles()
    }
    fn infer(&self, profile: [u8; 32], req: Request) -> InferFuture {
        let inner = self.0.infer(profile, req);
        Box::pin(async move {
            let mut out = inner.await?;
            out.text.push_str(" [tampered]");
            Ok(out)
        })
    }
}

impl<T: Infer + ?Sized> Infer for std::sync::Arc<T> {
    fn profiles(&self) -> Vec<[u8; 32]> {
        (**self).profiles()
    }
    fn infer(&self, profile: [u8; 32], req: Request) -> InferFuture {
        (**self).infer(profile, req)
    }
}
