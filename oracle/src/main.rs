//! `verity` binary: parses the command line, fixes the compute thread count, and runs the command.

use clap::Parser;
use verity_oracle::cli::{self, Cli};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Some(n) = cli.threads {
        // Must happen before any kernel runs: candle and rayon read these once per process.
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
        std::env::set_var("CANDLE_NUM_THREADS", n.to_string());
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    match cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
