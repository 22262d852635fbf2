//! Loading a GGUF of the llama family (llama, qwen2) held in memory into the exact model: architecture and
//! hyper-parameters from its metadata, tensors by name.
use crate::llama::{Arch, Config, Llama, ModelError, RawTensor};
use crate::matmul::Path;

/// Why a GGUF could not be loaded as an exact model.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Gguf(#[from] crate::gguf::GgufError),
    #[error("unsupported GGUF architecture {0:?} (expected llama or qwen2)")]
    Arch(Option<String>),
    #[error("GGUF metadata key `{0}` missing or not a number")]
    Key(String),
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Loads a llama / qwen2 GGUF held in memory; the RoPE table covers `max_context` positions (capped by the
/// model's).
pub fn load(file: &[u8], max_context: usize, path: Path) -> Result<Llama, LoadError> {
    let g = crate::gguf::Gguf::parse(file)?;
    let arch = match g.str("general.architecture") {
        Some("llama") => Arch::Llama,
        Some("qwen2") => Arch::Qwen2,
        other => return Err(LoadError::Arch(other.map(str::to_string))),
    };
    let key = |k: &str| format!("{}.{k}", arch.name());
    let num = |k: &str| g.usize(&key(k)).ok_or_else(|| LoadError::Key(key(k)));
    let (n_embd, n_head) = (num("embedding_length")?, num("attention.head_count")?);
    let vocab = g.tensors.get("token_embd.weight").and_then(|t| t.dims.get(1).copied());
    let eps = key("attention.layer_norm_rms_epsilon");
    let cfg = Config {
        arch,
        n_layer: num("block_count")?,
        n_embd,
        n_head,
        n_kv_head: num("attention.head_count_kv")?,
        head_dim: n_embd / n_head.max(1),
        n_ff: num("feed_forward_length")?,
        vocab: vocab.ok_or_else(|| ModelError::Missing("token_embd.weight".into()))?,
        context: num("context_length")?.min(max_context),
        eps: g.f32(&eps).ok_or(LoadError::Key(eps))?,
        rope_base: g.f32(&key("rope.freq_base")).unwrap_or(10000.0),
    };
    Ok(Llama::new(cfg, path, |name| {
        let t = g.tensors.get(name)?;
        Some(RawTensor { ggml_type: t.ggml_type, dims: t.dims.clone(), data: file[t.start..t.start + t.len].to_vec() })
    })?)
}
