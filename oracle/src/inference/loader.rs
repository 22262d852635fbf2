//! Load a GGUF file into a servable bundle: weights-hash check, model, tokenizer, template, profile.

use super::backend::Backend;
use super::device::{DeviceError, DeviceSpec};
use super::gpu::ExactGpu;
use super::model::Model;
use super::profile::{Dtype, Profile, DECODING};
use super::registry::ModelSpec;
use super::tokenizer::{ChatTemplate, GgufVocab, TokenizerError};
use candle_core::quantized::gguf_file::Content;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokenizers::Tokenizer;

/// Longest context the engine builds RoPE tables for (prompt + output).
pub const MAX_CONTEXT: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("model file {path} not found; run `verity models fetch` (models dir: --models-dir / VERITY_MODELS_DIR)")]
    Missing { path: PathBuf },
    #[error("cannot read model file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("model file {path} has sha256 {got}, expected {expected} (corrupted or wrong file; re-run `verity models fetch`)")]
    HashMismatch { path: PathBuf, expected: String, got: String },
    #[error("model file {path} is not a valid GGUF model: {reason}")]
    Gguf { path: PathBuf, reason: String },
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error("profile hash mismatch: this node would serve {local}, but {expected} was requested")]
    ProfileMismatch { expected: String, local: String },
    #[error("stop token `{0}` is not a control token of this model's vocabulary")]
    StopToken(String),
    #[error("the exact profile on {device}: {error}")]
    Gpu { device: DeviceSpec, error: verity_exact::gpu::GpuError },
    #[error(transparent)]
    Device(#[from] DeviceError),
    #[error(
        "{arch} is served by the exact profile only; use --dtype exact (candle's f32/q4_1 profiles run llama only)"
    )]
    NeedsExact { arch: String },
    #[error(transparent)]
    Kernel(#[from] verity_exact::matmul::PathError),
}

/// Everything the engine needs to serve one model under one profile.
pub struct Loaded {
    pub spec: ModelSpec,
    pub model: Backend,
    pub tokenizer: Tokenizer,
    pub template: ChatTemplate,
    pub profile: Profile,
    pub profile_hash: [u8; 32],
}

/// sha256 of a byte slice, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Load `path` as `spec` under `dtype` on `device`. The file's sha256 must equal `spec.sha256`.
pub fn load(spec: &ModelSpec, path: &Path, dtype: Dtype, device: DeviceSpec) -> Result<Loaded, LoadError> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::Missing { path: path.into() },
        _ => LoadError::Io { path: path.into(), source: e },
    })?;
    let weights: [u8; 32] = Sha256::digest(&bytes).into();
    if hex::encode(weights) != spec.sha256 {
        return Err(LoadError::HashMismatch {
            path: path.into(),
            expected: spec.sha256.into(),
            got: hex::encode(weights),
        });
    }
    load_unchecked(spec, path, &bytes, weights, dtype, device)
}

/// Load GGUF `bytes` without comparing their hash to `spec` (used for local experiments and tests).
pub fn load_unchecked(
    spec: &ModelSpec,
    path: &Path,
    bytes: &[u8],
    weights: [u8; 32],
    dtype: Dtype,
    device: DeviceSpec,
) -> Result<Loaded, LoadError> {
    let gguf_err = |e: candle_core::Error| LoadError::Gguf { path: path.into(), reason: e.to_string() };
    let mut cur = std::io::Cursor::new(bytes);
    let ct = Content::read(&mut cur).map_err(gguf_err)?;
    let vocab = GgufVocab::from_gguf(&ct)?;
    let tokenizer = vocab.build()?;
    let template = ChatTemplate::parse(spec.chat_template, &vocab)?;
    let mut stop_tokens = Vec::new();
    for name in spec.stop_tokens {
        let id = vocab.tokens.iter().position(|t| t == name).ok_or_else(|| LoadError::StopToken((*name).into()))?;
        stop_tokens.push(id as u32);
    }
    // The GGUF's own end-of-sequence token ends generation too (the instruct models' `<|im_end|>`).
    if let Some(eos) = ct.metadata.get("tokenizer.ggml.eos_token_id").and_then(|v| v.to_u32().ok()) {
        stop_tokens.push(eos);
    }
    stop_tokens.sort_unstable();
    stop_tokens.dedup();
    let model = match dtype {
        Dtype::Exact => {
            let path_kind = verity_exact::matmul::Path::from_env()?;
            let m = verity_exact::llama::load(bytes, MAX_CONTEXT, path_kind)
                .map_err(|e| LoadError::Gguf { path: path.into(), reason: e.to_string() })?;
            match device {
                DeviceSpec::Cpu => Backend::Exact(m),
                // The device gets the CPU model's weights and is checked against it; the CPU copy is then dropped.
                gpu => Backend::ExactGpu(ExactGpu::open(&m, gpu).map_err(|error| LoadError::Gpu { device, error })?),
            }
        }
        Dtype::F32 | Dtype::Q4_1 => {
            let arch = ct.metadata.get("general.architecture").and_then(|v| v.to_string().ok());
            if let Some(arch) = arch.filter(|a| a.as_str() != "llama") {
                return Err(LoadError::NeedsExact { arch: arch.clone() });
            }
            Backend::Candle(Model::load(&ct, &mut cur, dtype, MAX_CONTEXT, &device.open()?).map_err(gguf_err)?)
        }
    };
    let profile = Profile {
        weights_sha256: weights,
        tokenizer_sha256: vocab.sha256(),
        dtype,
        decoding: DECODING.into(),
        chat_template: spec.chat_template.into(),
        stop_tokens,
        engine_version: dtype.engine_version().into(),
    };
    let profile_hash = profile.hash();
    Ok(Loaded { spec: spec.clone(), model, tokenizer, template, profile, profile_hash })
}

impl Loaded {
    /// Refuse to serve unless the local profile hash equals `expected_hex` (case-insensitive hex).
    pub fn check_profile(&self, expected_hex: &str) -> Result<(), LoadError> {
        let local = hex::encode(self.profile_hash);
        if expected_hex.trim().to_ascii_lowercase() != local {
            return Err(LoadError::ProfileMismatch { expected: expected_hex.into(), local });
        }
        Ok(())
    }
}
