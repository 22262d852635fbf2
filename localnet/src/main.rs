//! `verity-localnet --dir <state dir> [--operators 3] [--rpc-port 8899] [--profile-hash <hex>]`: starts a fresh
//! bootstrapped local network, prints its URLs and files, and runs until Ctrl-C / SIGTERM.
use {
    anyhow::{bail, Context},
    sha2::{Digest, Sha256},
    std::path::PathBuf,
    verity_client::hash::hex,
    verity_localnet::{launch, BootstrapOptions, LocalnetOptions, INFO_FILE},
};

const USAGE: &str = "usage: verity-localnet --dir <state dir> [--operators N (3)] [--rpc-port P (8899)] \
                     [--profile-hash <64 hex chars>]";

struct Args {
    dir: PathBuf,
    operators: usize,
    rpc_port: u16,
    profile_hash: Option<[u8; 32]>,
}

fn parse_hash(s: &str) -> anyhow::Result<[u8; 32]> {
    if s.len() != 64 || !s.is_ascii() {
        bail!("--profile-hash must be 64 hex characters");
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).context("--profile-hash is not hex")?;
    }
    Ok(out)
}

fn parse_args(mut it: impl Iterator<Item = String>) -> anyhow::Result<Args> {
    let (mut dir, mut operators, mut rpc_port, mut profile_hash) = (None, 3usize, 8899u16, None);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--dir" => dir = Some(PathBuf::from(value()?)),
            "--operators" => operators = value()?.parse().context("--operators must be a number")?,
            "--rpc-port" => rpc_port = value()?.parse().context("--rpc-port must be a port number")?,
            "--profile-hash" => profile_hash = Some(parse_hash(&value()?)?),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}\n{USAGE}"),
        }
    }
    let dir = dir.with_context(|| format!("--dir is required\n{USAGE}"))?;
    if !(1..=64).contains(&operators) {
        bail!("--operators must be 1..=64");
    }
    Ok(Args { dir, operators, rpc_port, profile_hash })
}

async fn wait_for_shutdown() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args(std::env::args().skip(1))?;
    let profile_hash = args.profile_hash.unwrap_or_else(|| {
        eprintln!(
            "warning: no --profile-hash given; registering a placeholder. Oracle nodes compute the real one \
             (verity-oracle inference::profile) and will not match it."
        );
        Sha256::digest(b"verity-localnet placeholder profile").into()
    });
    let started = std::time::Instant::now();
    let boot = BootstrapOptions::new(args.operators, profile_hash);
    let net = launch(&args.dir, LocalnetOptions { rpc_port: Some(args.rpc_port), ledger_dir: None }, &boot).await?;
    let info = &net.info;
    println!("Verity localnet up in {:.1}s", started.elapsed().as_secs_f64());
    println!("  rpc:        {}", info.rpc_url);
    println!("  websocket:  {}", info.ws_url);
    println!("  faucet:     {}", info.faucet);
    println!("  program:    {}", info.program_id);
    println!("  model:      {} (id {}, profile {})", info.model.address, info.model.id, hex(&profile_hash));
    println!("  operators:  {}", info.operators.len());
    println!("  wallet:     {} ({})", info.wallet, info.wallet_keypair.display());
    println!("  state file: {}", std::path::absolute(args.dir.join(INFO_FILE))?.display());
    println!("Ctrl-C to stop.");
    wait_for_shutdown().await?;
    println!("shutting down");
    net.localnet.shutdown();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> anyhow::Result<Args> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_all_flags() {
        let a = parse(&["--dir", "x", "--operators", "5", "--rpc-port", "9000", "--profile-hash", &"ab".repeat(32)])
            .unwrap();
        assert_eq!((a.dir, a.operators, a.rpc_port, a.profile_hash), ("x".into(), 5, 9000, Some([0xab; 32])));
        let d = parse(&["--dir", "y"]).unwrap();
        assert_eq!((d.operators, d.rpc_port, d.profile_hash), (3, 8899, None));
    }

    #[test]
    fn rejects_bad_arguments() {
        let err = |args: &[&str]| parse(args).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err(&[]).contains("--dir is required"));
        assert!(err(&["--dir"]).contains("--dir needs a value"));
        assert!(err(&["--dir", "x", "--operators", "0"]).contains("1..=64"));
        assert!(err(&["--dir", "x", "--operators", "65"]).contains("1..=64"));
        assert!(err(&["--dir", "x", "--operators", "three"]).contains("must be a number"));
        assert!(err(&["--dir", "x", "--rpc-port", "70000"]).contains("port number"));
        assert!(err(&["--dir", "x", "--profile-hash", "abc"]).contains("64 hex"));
        assert!(err(&["--dir", "x", "--profile-hash", &"zz".repeat(32)]).contains("not hex"));
        assert!(err(&["--dir", "x", "--verbose"]).contains("unknown argument --verbose"));
    }
}
