//! Shared helpers for the oracle integration tests: locating the fetched model and loading it.
#![allow(dead_code)]

use std::path::PathBuf;
use verity_oracle::inference::registry::SMOLLM2_135M;
use verity_oracle::inference::{load, DeviceSpec, Dtype, Loaded};

/// Path of the fetched SmolLM2 GGUF; panics with instructions when it is absent.
pub fn model_path() -> PathBuf {
    let dir = std::env::var_os("VERITY_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(verity_oracle::inference::fetch::default_models_dir);
    let p = dir.join(SMOLLM2_135M.file);
    assert!(
        p.exists(),
        "model file {} is missing: run `verity models fetch` (or set VERITY_MODELS_DIR) before `cargo test -p verity-oracle`",
        p.display()
    );
    p
}

pub fn load_model(dtype: Dtype) -> Loaded {
    load_model_on(dtype, DeviceSpec::Cpu)
}

pub fn load_model_on(dtype: Dtype, device: DeviceSpec) -> Loaded {
    load(&SMOLLM2_135M, &model_path(), dtype, device).expect("model loads")
}

/// Path of the fetched Qwen2.5-Coder-0.5B GGUF, or None (with a printed notice) when it is absent: the Qwen tests
/// are skipped then (`verity models fetch qwen2.5-coder-0.5b` enables them).
pub fn qwen05_path() -> Option<PathBuf> {
    let dir = std::env::var_os("VERITY_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(verity_oracle::inference::fetch::default_models_dir);
    let p = dir.join(verity_oracle::inference::registry::QWEN25_CODER_05B.file);
    if !p.exists() {
        eprintln!(
            "NOTICE: {} is missing; skipping (run `verity models fetch qwen2.5-coder-0.5b` to enable this test)",
            p.display()
        );
        return None;
    }
    Some(p)
}
