//! Generates the `VerityError` name/message table from the program's append-only error enum (source order is
//! code order: 6000 + index), so error names are never copied by hand.
use std::{env, fs, path::Path};

fn main() {
    let src_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../programs/verity/src/errors.rs");
    println!("cargo:rerun-if-changed={}", src_path.display());
    let src = fs::read_to_string(&src_path).expect("reading programs/verity/src/errors.rs");
    let body = src
        .split_once("pub enum VerityError {")
        .and_then(|(_, rest)| rest.split_once("\n}"))
        .map(|(body, _)| body)
        .expect("errors.rs: `pub enum VerityError { ... }` not found");
    let (mut table, mut msg) = (String::from("&[\n"), String::new());
    for line in body.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("#[msg(\"").and_then(|l| l.strip_suffix("\")]")) {
            msg = m.to_string();
        } else if let Some(name) = line.split(',').next().filter(|n| !n.is_empty() && !n.starts_with("//")) {
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric()), "errors.rs: unexpected line `{line}`");
            table.push_str(&format!("    ({name:?}, {msg:?}),\n"));
            msg.clear();
        }
    }
    table.push(']');
    let out = Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).join("verity_errors.rs");
    fs::write(out, table).expect("writing verity_errors.rs");
}
