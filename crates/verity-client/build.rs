//! Generates, from the program's source, so that no name is copied by hand: the `VerityError` name/message table
//! from its append-only error enum (source order is code order: 6000 + index), and the table of its
//! instructions (the handlers `lib.rs` dispatches) with each one's discriminator from the program's own
//! `instruction` types.
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
    let out_dir = env::var("OUT_DIR").expect("OUT_DIR");
    fs::write(Path::new(&out_dir).join("verity_errors.rs"), table).expect("writing verity_errors.rs");
    fs::write(Path::new(&out_dir).join("verity_instructions.rs"), instructions())
        .expect("writing verity_instructions.rs");
}

/// `&[(discriminator, "name"), ...]` of every instruction `lib.rs` dispatches (`pub fn name(ctx: Context<...`).
fn instructions() -> String {
    let lib_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../programs/verity/src/lib.rs");
    println!("cargo:rerun-if-changed={}", lib_path.display());
    let src = fs::read_to_string(&lib_path).expect("reading programs/verity/src/lib.rs");
    let mut table = String::from("&[\n");
    // A signature may span lines: each `pub fn` up to its body's `{`.
    for sig in src.split("pub fn ").skip(1).map(|s| s.split('{').next().unwrap_or("")) {
        if !sig.contains("Context<") {
            continue;
        }
        let Some(name) = sig.split(['(', '<']).next().map(str::trim) else { continue };
        let camel: String = name.split('_').map(|w| w[..1].to_ascii_uppercase() + &w[1..]).collect();
        table.push_str(&format!(
            "    (<verity::instruction::{camel} as anchor_lang::Discriminator>::DISCRIMINATOR, {name:?}),\n"
        ));
    }
    table.push(']');
    table
}
