//! The committed IDL (`sdk/src/idl/verity.json`, used by the TypeScript client and the app) must equal the IDL
//! built from the program source by `scripts/idl.sh`.
use std::{path::PathBuf, process::Command};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("repo root").to_path_buf()
}

const REGENERATE: &str = "regenerate it with `scripts/idl.sh sdk/src/idl/verity.json` and commit the result";

#[test]
fn committed_idl_matches_the_program() {
    let root = repo_root();
    let script = root.join("scripts/idl.sh");
    let committed = root.join("sdk/src/idl/verity.json");
    assert!(script.exists(), "{} is missing", script.display());
    assert!(committed.exists(), "{} is missing: {REGENERATE}", committed.display());

    let fresh = std::env::temp_dir().join(format!("verity-idl-{}.json", std::process::id()));
    // The script builds in its own target dir ($VERITY_IDL_TARGET_DIR, default ~/.cache/verity-idl-target): the
    // outer `cargo test` owns the main one, and sharing it would block on cargo's build-dir lock.
    let out = Command::new("bash")
        .arg(&script)
        .arg(&fresh)
        .current_dir(&root)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTUP_TOOLCHAIN")
        .output()
        .expect("run scripts/idl.sh");
    assert!(
        out.status.success(),
        "scripts/idl.sh failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let parse = |p: &PathBuf| -> serde_json::Value {
        let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()))
    };
    let built = parse(&fresh);
    let _ = std::fs::remove_file(&fresh);
    assert_eq!(built["address"], serde_json::json!(verity::ID.to_string()), "IDL address is not the program id");
    assert!(built["instructions"].as_array().is_some_and(|a| !a.is_empty()), "built IDL has no instructions");
    if let Some(diff) = idl_diff(&parse(&committed), &built) {
        panic!("sdk/src/idl/verity.json is stale (differs from the IDL built from programs/verity in {diff}): {REGENERATE}");
    }
    // The comparison itself catches a drift: drop one instruction from a copy.
    let mut tampered = built.clone();
    tampered["instructions"].as_array_mut().expect("instructions").pop();
    assert_eq!(idl_diff(&tampered, &built).as_deref(), Some("instructions"));
}

/// The top-level IDL sections (and, for instructions/accounts/types, the item names) that differ, or `None`.
fn idl_diff(committed: &serde_json::Value, built: &serde_json::Value) -> Option<String> {
    if committed == built {
        return None;
    }
    let keys = |v: &serde_json::Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    let mut all = keys(committed);
    all.extend(keys(built));
    all.sort();
    all.dedup();
    let differing: Vec<String> = all.into_iter().filter(|k| committed.get(k) != built.get(k)).collect();
    Some(differing.join(", "))
}
