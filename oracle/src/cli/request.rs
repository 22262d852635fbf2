//! `verity request "prompt"` / `verity request --prompt-file PATH` (a wallet submits a prompt with its fee and
//! waits for the finalized output; a prompt over 640 bytes goes through a `Prompt` account, or with
//! `--prompt-uri URL` only its hash and the URL go on chain and the nodes fetch it) and
//! `verity request show <pubkey>` (a request's timeline, committee and compute receipt).
use {
    super::infer::SamplingArgs,
    crate::chain::{pda, wallet, ChainClient},
    crate::metrics::Metrics,
    anchor_lang::prelude::Pubkey,
    anyhow::{Context, Result},
    clap::{Args, Subcommand},
    solana_keypair::Keypair,
    std::{path::PathBuf, time::Duration},
    verity::state::{Output, Request},
    verity_client::{read_keypair, LocalnetInfo},
};

/// Where the network is and who signs: explicit flags, or a `verity localnet` state directory.
#[derive(Args, Debug, Clone)]
pub struct NetArgs {
    /// State directory written by `verity localnet` (localnet.json, keys/).
    #[arg(long, env = "VERITY_LOCALNET_DIR", default_value = ".localnet")]
    pub localnet_dir: PathBuf,
    /// JSON-RPC URL (default: the localnet's).
    #[arg(long, env = "VERITY_RPC_URL")]
    pub url: Option<String>,
    /// Signer keypair (default: the localnet's wallet, or operator 0 for `operator` commands).
    #[arg(long, env = "VERITY_KEYPAIR")]
    pub keypair: Option<PathBuf>,
}

impl NetArgs {
    pub fn info(&self) -> Option<LocalnetInfo> {
        LocalnetInfo::load(&self.localnet_dir).ok()
    }
    /// The client, the signer (falling back to `default_key` of the localnet) and the localnet description.
    pub fn resolve(
        &self,
        default_key: impl Fn(&LocalnetInfo) -> PathBuf,
    ) -> Result<(ChainClient, Keypair, Option<LocalnetInfo>)> {
        let info = self.info();
        let url = match (&self.url, &info) {
            (Some(u), _) => u.clone(),
            (None, Some(i)) => i.rpc_url.clone(),
            (None, None) => anyhow::bail!(
                "no network: pass --url, or run `verity localnet` (state in {})",
                self.localnet_dir.display()
            ),
        };
        let key_path = match (&self.keypair, &info) {
            (Some(k), _) => k.clone(),
            (None, Some(i)) => default_key(i),
            (None, None) => anyhow::bail!("no keypair: pass --keypair"),
        };
        let kp = read_keypair(&key_path)?;
        Ok((ChainClient::new(&[url], Metrics::default())?, kp, info))
    }
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RequestArgs {
    #[command(subcommand)]
    pub cmd: Option<RequestCmd>,
    #[command(flatten)]
    pub net: NetArgs,
    /// Model: its account address, or a localnet model's name (`verity localnet` prints them; default: the
    /// localnet's first model).
    #[arg(long)]
    pub model: Option<String>,
    #[arg(long, default_value_t = 32)]
    pub max_tokens: u32,
    /// Fee in lamports (default: the model's price × max_tokens).
    #[arg(long)]
    pub fee: Option<u64>,
    /// Output bytes reserved on chain.
    #[arg(long, default_value_t = 1024)]
    pub output_capacity: u32,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// Seconds to wait for the outcome and the output.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// The prompt.
    pub prompt: Option<String>,
    /// Read the prompt from this file instead (up to the model's max_input_bytes, e.g. 8 KB).
    #[arg(long, conflicts_with = "prompt")]
    pub prompt_file: Option<PathBuf>,
    /// Put only the prompt's sha256 and this http(s) URL on chain: the nodes fetch the prompt from there (it
    /// must serve exactly the bytes of the prompt / --prompt-file given here).
    #[arg(long)]
    pub prompt_uri: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum RequestCmd {
    /// Show a request's timeline, committee, receipt and output.
    Show {
        request: Pubkey,
        #[command(flatten)]
        net: NetArgs,
    },
}

pub fn run(a: RequestArgs) -> Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        if let Some(RequestCmd::Show { request, net }) = &a.cmd {
            let (chain, _, _) = net.resolve(|i| i.wallet_keypair.clone())?;
            println!("{}", show(&chain, request).await?);
            return Ok(());
        }
        let prompt = match (&a.prompt, &a.prompt_file) {
            (_, Some(path)) => std::fs::read(path).with_context(|| format!("--prompt-file {}", path.display()))?,
            (Some(p), None) => p.clone().into_bytes(),
            (None, None) => anyhow::bail!("no prompt: verity request \"your prompt\" (or --prompt-file PATH)"),
        };
        let (chain, kp, info) = a.net.resolve(|i| i.wallet_keypair.clone())?;
        let model = match (a.model.as_deref(), &info) {
            (Some(m), info) => match (m.parse::<Pubkey>(), info) {
                (Ok(k), _) => k,
                (Err(_), Some(i)) => LocalnetInfo::pubkey(&i.model_named(m)?.address)?,
                (Err(_), None) => anyhow::bail!("--model {m}: not an address, and no localnet to look its name up in"),
            },
            (None, Some(i)) => LocalnetInfo::pubkey(&i.model.address)?,
            (None, None) => anyhow::bail!("no model: pass --model"),
        };
        let ask = wallet::Ask {
            model,
            prompt,
            max_tokens: a.max_tokens,
            fee: a.fee,
            output_capacity: a.output_capacity,
            sampling: {
                let s = a.sampling.resolve(rand::random::<u64>)?;
                verity::Sampling { temperature_milli: s.temperature_milli, top_p_milli: s.top_p_milli, seed: s.seed }
            },
            prompt_uri: a.prompt_uri.clone(),
        };
        let key = wallet::submit(&chain, &kp, &ask).await?;
        eprintln!("submitted request {key}; waiting for the committee…");
        let timeout = Duration::from_secs(a.timeout);
        let r = wallet::wait_final(&chain, &key, timeout).await?;
        if r.status == verity::state::RequestStatus::Finalized {
            let text = wallet::wait_output(&chain, &key, timeout).await?;
            println!("{text}");
            if text == verity::PROMPT_UNAVAILABLE {
                eprintln!(
                    "the committee could not verify the prompt at its URI (unreachable, or other bytes than its hash)"
                );
            }
        }
        eprintln!("{}", show(&chain, &key).await?);
        Ok(())
    })
}

/// The `request show` text for `key` (clear errors for a missing or non-Request account).
pub async fn show(chain: &ChainClient, key: &Pubkey) -> Result<String> {
    let r: Request = chain.account(key, "Request").await?;
    let out: Option<Output> = chain.account(&pda::output(key), "Output").await.ok();
    Ok(wallet::describe(key, &r, out.as_ref()))
}
