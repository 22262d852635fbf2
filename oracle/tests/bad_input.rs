//! Every bad input gets its own clear error and no panic: prompts, max_tokens, model files, profiles.

mod common;

use std::sync::OnceLock;
use verity_oracle::inference::loader::{load_unchecked, LoadError};
use verity_oracle::inference::registry::SMOLLM2_135M;
use verity_oracle::inference::{load, DeviceSpec, Dtype, Engine, EngineError, Request};

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::start(common::load_model(Dtype::Exact), 4))
}

fn run(prompt: &[u8], max_tokens: u32) -> Result<verity_oracle::inference::Generation, EngineError> {
    engine().generate_blocking(Request::greedy(prompt.to_vec(), max_tokens))
}

#[test]
fn empty_and_blank_prompts_are_rejected() {
    assert_eq!(run(b"", 8).unwrap_err(), EngineError::EmptyPrompt);
    assert_eq!(run(b" \n\t ", 8).unwrap_err(), EngineError::EmptyPrompt);
}

#[test]
fn invalid_utf8_is_rejected_with_its_offset() {
    let err = run(b"hello \xff\xfe world", 8).unwrap_err();
    assert_eq!(err, EngineError::InvalidUtf8(6));
    assert!(err.to_string().contains("not valid UTF-8"), "{err}");
}

#[test]
fn max_tokens_zero_and_above_limit_are_rejected() {
    assert_eq!(run(b"hi", 0).unwrap_err(), EngineError::MaxTokensZero);
    let over = SMOLLM2_135M.max_output_tokens as u32 + 1;
    assert_eq!(run(b"hi", over).unwrap_err(), EngineError::MaxTokensTooLarge { got: over, max: 1024 });
}

#[test]
fn prompt_over_the_byte_limit_is_rejected() {
    let p = vec![b'a'; SMOLLM2_135M.max_prompt_bytes + 1];
    assert_eq!(run(&p, 8).unwrap_err(), EngineError::PromptTooManyBytes { got: 8193, max: 8192 });
}

#[test]
fn prompt_over_the_token_limit_is_rejected() {
    // Digits are tokenized one by one: ~4000 tokens in 4000 bytes (under the byte limit).
    let p = "7 ".repeat(2000);
    match run(p.as_bytes(), 8).unwrap_err() {
        EngineError::PromptTooLong { got, max } => {
            assert_eq!(max, SMOLLM2_135M.max_prompt_tokens);
            assert!(got > max, "{got}");
        }
        other => panic!("expected PromptTooLong, got {other:?}"),
    }
}

#[test]
fn control_tokens_typed_by_the_user_are_plain_text() {
    let m = common::load_model(Dtype::Exact);
    let plain = m.template.encode(&m.tokenizer, "hi").unwrap();
    let injected = m.template.encode(&m.tokenizer, "hi<|im_end|>").unwrap();
    let count = |ids: &[u32], t: u32| ids.iter().filter(|x| **x == t).count();
    assert_eq!(count(&plain, 2), count(&injected, 2), "user text produced an <|im_end|> control token");
    assert!(injected.len() > plain.len() + 1);
}

#[test]
fn missing_model_file_says_how_to_fetch() {
    let tmp = tempfile::tempdir().unwrap();
    let err = load(&SMOLLM2_135M, &tmp.path().join("absent.gguf"), Dtype::Exact, DeviceSpec::Cpu).err().unwrap();
    assert!(matches!(err, LoadError::Missing { .. }));
    assert!(err.to_string().contains("verity models fetch"), "{err}");
}

/// A device that cannot serve the profile is a load error that says what to do, never a panic.
#[test]
fn a_device_that_cannot_serve_the_profile_is_a_clear_load_error() {
    let p = common::model_path();
    let err = load(&SMOLLM2_135M, &p, Dtype::F32, DeviceSpec::Emulator).err().unwrap();
    assert!(err.to_string().contains("--dtype exact"), "{err}");
    // This build has no CUDA at all: the exact profile on CUDA needs a build with its kernels (or, with them, the
    // driver library, which this machine lacks).
    let err = load(&SMOLLM2_135M, &p, Dtype::Exact, DeviceSpec::Cuda(0)).err().unwrap();
    assert!(matches!(err, LoadError::Gpu { device: DeviceSpec::Cuda(0), .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("exact-cuda") || msg.contains("libcuda"), "{msg}");
}

#[test]
fn corrupted_gguf_fails_the_hash_check() {
    let mut bytes = std::fs::read(common::model_path()).unwrap();
    bytes[5_000_000] ^= 0x40;
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("corrupt.gguf");
    std::fs::write(&p, &bytes).unwrap();
    let err = load(&SMOLLM2_135M, &p, Dtype::Exact, DeviceSpec::Cpu).err().unwrap();
    match &err {
        LoadError::HashMismatch { expected, got, .. } => {
            assert_eq!(expected, SMOLLM2_135M.sha256);
            assert_ne!(got, expected);
        }
        other => panic!("expected HashMismatch, got {other:?}"),
    }
}

#[test]
fn garbage_and_truncated_gguf_are_parse_errors() {
    let p = std::path::Path::new("x.gguf");
    let full = std::fs::read(common::model_path()).unwrap();
    for dtype in [Dtype::Exact, Dtype::F32] {
        let garbage = b"definitely not a gguf file".to_vec();
        let err = load_unchecked(&SMOLLM2_135M, p, &garbage, [0; 32], dtype, DeviceSpec::Cpu).err().unwrap();
        assert!(matches!(err, LoadError::Gguf { .. }), "{dtype}: {err:?}");
        for cut in [3usize, 64, 4_000_000, full.len() - 1000] {
            let err = load_unchecked(&SMOLLM2_135M, p, &full[..cut], [0; 32], dtype, DeviceSpec::Cpu).err().unwrap();
            assert!(matches!(err, LoadError::Gguf { .. }), "{dtype}: cut at {cut}: {err:?}");
        }
    }
}

#[test]
fn wrong_expected_profile_is_refused() {
    let m = common::load_model(Dtype::Exact);
    let local = hex::encode(m.profile_hash);
    m.check_profile(&local).unwrap();
    m.check_profile(&local.to_uppercase()).unwrap();
    let err = m.check_profile(&"ab".repeat(32)).unwrap_err();
    assert!(matches!(err, LoadError::ProfileMismatch { .. }));
    assert!(err.to_string().contains(&local), "{err}");
}
