//! `verity operator register|stake|unstake|withdraw|status`: an operator manages its registration and stake
//! (amounts in the stake mint's base units; the localnet mint has 6 decimals).
use {
    super::request::NetArgs,
    crate::chain::{ix, pda, ChainClient},
    anchor_lang::prelude::Pubkey,
    anyhow::{Context, Result},
    clap::{Args, Subcommand},
    solana_keypair::Keypair,
    solana_signer::Signer,
    verity::state::{Config, Operator, OperatorRegistry},
    verity_client::LocalnetInfo,
};

#[derive(Args, Debug)]
pub struct OperatorArgs {
    #[command(subcommand)]
    pub cmd: OperatorCmd,
    #[command(flatten)]
    pub net: NetArgs,
}

#[derive(Subcommand, Debug)]
pub enum OperatorCmd {
    /// Register this keypair as an operator serving the models in `--served-models` (bitmap of model indices).
    Register {
        #[arg(long, default_value_t = 1)]
        served_models: u64,
    },
    /// Stake tokens from a token account of the stake mint (default: the localnet's for this operator).
    Stake {
        amount: u64,
        #[arg(long)]
        source: Option<Pubkey>,
    },
    /// Start unbonding `amount` of stake.
    Unstake { amount: u64 },
    /// Withdraw all unbonded stake to a token account (default: the localnet's for this operator).
    Withdraw {
        #[arg(long)]
        destination: Option<Pubkey>,
    },
    /// Show the operator account and its registry entry.
    Status,
}

fn operator_key(i: &LocalnetInfo) -> std::path::PathBuf {
    i.operators.first().map(|o| o.keypair.clone()).unwrap_or_else(|| i.wallet_keypair.clone())
}

/// The localnet's stake token account of `authority`, if it is one of the bootstrap operators.
fn token_account(info: &Option<LocalnetInfo>, authority: &Pubkey, given: Option<Pubkey>) -> Result<Pubkey> {
    if let Some(k) = given {
        return Ok(k);
    }
    let i = info.as_ref().context("pass the token account explicitly (no localnet state found)")?;
    let op = i
        .operators
        .iter()
        .find(|o| o.authority == authority.to_string())
        .with_context(|| format!("{authority} is not a localnet operator: pass the token account explicitly"))?;
    Ok(LocalnetInfo::pubkey(&op.stake_account)?)
}

pub fn run(a: OperatorArgs) -> Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let (chain, kp, info) = a.net.resolve(operator_key)?;
        let me = kp.pubkey();
        let config: Config = chain.account(&pda::config(), "Config").await?;
        let send = |label: &'static str, i: solana_instruction::Instruction| {
            let (chain, kp) = (&chain, &kp);
            async move { send_one(chain, kp, label, i).await }
        };
        match a.cmd {
            OperatorCmd::Register { served_models } => {
                send("register_operator", ix::register_operator(&me, served_models)).await?
            }
            OperatorCmd::Stake { amount, source } => {
                let src = token_account(&info, &me, source)?;
                send("stake", ix::stake(&me, &config.stake_mint, &src, amount)).await?
            }
            OperatorCmd::Unstake { amount } => send("request_unstake", ix::request_unstake(&me, amount)).await?,
            OperatorCmd::Withdraw { destination } => {
                let dst = token_account(&info, &me, destination)?;
                send("withdraw_stake", ix::withdraw(&me, &config.stake_mint, &dst)).await?
            }
            OperatorCmd::Status => {}
        }
        println!("{}", status(&chain, &me).await?);
        Ok(())
    })
}

async fn send_one(chain: &ChainClient, kp: &Keypair, label: &str, i: solana_instruction::Instruction) -> Result<()> {
    let sig = chain.send(label, &[i], kp).await.with_context(|| format!("{label} failed"))?;
    println!("{label}: {sig}");
    Ok(())
}

/// The operator's account and registry entry as text.
pub async fn status(chain: &ChainClient, authority: &Pubkey) -> Result<String> {
    let key = pda::operator(authority);
    let op: Operator = match chain.account(&key, "Operator").await {
        Ok(o) => o,
        Err(crate::chain::ChainError::NotFound(_)) => return Ok(format!("{authority} is not registered")),
        Err(e) => return Err(e.into()),
    };
    let reg: OperatorRegistry = chain.account(&pda::registry(), "OperatorRegistry").await?;
    let entry = reg.entries.iter().find(|e| e.authority == *authority);
    Ok(format!(
        "operator {authority} (account {key})\n  stake {}  unbonding {} (release slot {})  served models {:#b}\n  \
         assigned {}  agreed {}  minority {}  missed {}  slashed total {}  earned total {} lamports\n  \
         served {} tokens, {} FLOPs (majority rounds)\n  registry: {}",
        op.stake,
        op.unbonding,
        op.release_slot,
        op.served_models,
        op.assigned,
        op.agreed,
        op.minority,
        op.missed,
        op.slashed_total,
        op.earned_total,
        op.tokens_served,
        if op.flops_served == 0 { "0".to_string() } else { format!("≈{:.2e}", op.flops_served as f64) },
        entry.map(|e| format!("stake {} open assignments {}", e.stake, e.open_assignments)).unwrap_or("absent".into())
    ))
}
