//! `verity-idl-build <program dir> <out.json>`: builds the program's IDL with anchor-lang-idl's `IdlBuilder`
//! (the builder `anchor idl build` uses: the program's `__anchor_private_print_idl` tests, merged, module paths
//! shortened, sorted) with docs and account resolution, and writes it as pretty JSON.
use {
    anchor_lang_idl::build::IdlBuilder,
    anyhow::{bail, Context},
    std::path::PathBuf,
};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [program, out] = args.as_slice() else {
        bail!("usage: verity-idl-build <program dir> <out.json>");
    };
    let program = std::path::absolute(PathBuf::from(program))?;
    let idl = IdlBuilder::new()
        .program_path(program.clone())
        .resolution(true)
        .skip_lint(false)
        .no_docs(false)
        .cargo_args(vec!["--lib".into()])
        .build()
        .with_context(|| format!("building the IDL of {}", program.display()))?;
    let mut json = serde_json::to_string_pretty(&idl)?;
    json.push('\n');
    std::fs::write(out, json).with_context(|| format!("writing {out}"))?;
    println!("wrote {out}");
    Ok(())
}
