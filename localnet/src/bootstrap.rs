//! Bootstrap of a fresh network (what `verity localnet` does before nodes start): config, stake mint, treasury,
//! the SmolLM2 model and N staked operators, all through the client crate's instruction builders.
use {
    crate::{chain::Chain, pda},
    anchor_lang::prelude::Pubkey,
    anyhow::{ensure, Context},
    solana_keypair::Keypair,
    solana_signer::Signer,
    verity::state::{ConfigParams, Model, ModelParams},
    verity_client::{ix as vix, models},
};

pub use verity_client::ix::ix;

/// Lamports per SOL.
pub const SOL: u64 = 1_000_000_000;
/// Decimals of the localnet stake token.
pub const STAKE_DECIMALS: u8 = 6;
/// One whole stake token in base units.
pub const STAKE_TOKEN: u64 = 1_000_000;

/// Protocol parameters for CPU inference on a 400 ms-slot localnet: k = 3 (fewer with fewer operators),
/// ~60 s windows.
pub fn localnet_params(operators: usize) -> ConfigParams {
    let k = u8::try_from(operators.clamp(1, 3)).unwrap_or(3);
    ConfigParams {
        protocol_fee_bps: 500,
        slash_bps: 1_000,
        slash_treasury_bps: 5_000,
        committee_size: k,
        assign_window: 60,
        commit_window: 150,
        reveal_window: 150,
        dispute_window: 25,
        unbonding_slots: 300,
        min_stake: STAKE_TOKEN,
        dispute_bond: SOL,
    }
}

/// The SmolLM2 model entry with the inference profile hash computed by the oracle (`inference::profile`); prompts
/// up to the engine's 8192 bytes (over 640 they travel in a `Prompt` account).
pub fn smollm2_params(profile_hash: [u8; 32]) -> ModelParams {
    ModelParams {
        name: "smollm2-135m-instruct".into(),
        profile_hash,
        price_per_token: 1_000,
        max_input_bytes: 8_192,
        max_output_tokens: 128,
        royalty_bps: 1_000,
        param_count: 134_515_008,
    }
}

/// What to set up.
#[derive(Clone, Debug)]
pub struct BootstrapOptions {
    pub operators: usize,
    pub config: ConfigParams,
    pub model_id: u64,
    pub model: ModelParams,
    /// Further models, registered as ids `model_id + 1, …`; every operator serves them all.
    pub extra_models: Vec<ModelParams>,
    /// Stake tokens minted to each operator; `stake` of them are staked.
    pub minted: u64,
    pub stake: u64,
    /// Lamports given to each operator and to the client wallet.
    pub operator_lamports: u64,
    pub wallet_lamports: u64,
}

impl BootstrapOptions {
    /// Defaults: localnet params, model id 1, 1000 tokens minted and 100 staked per operator, 100 SOL each,
    /// a 1000 SOL client wallet.
    pub fn new(operators: usize, profile_hash: [u8; 32]) -> BootstrapOptions {
        BootstrapOptions {
            operators,
            config: localnet_params(operators),
            model_id: 1,
            model: smollm2_params(profile_hash),
            extra_models: Vec::new(),
            minted: 1_000 * STAKE_TOKEN,
            stake: 100 * STAKE_TOKEN,
            operator_lamports: 100 * SOL,
            wallet_lamports: 1_000 * SOL,
        }
    }
}

/// A registered, staked operator.
pub struct OperatorKeys {
    pub authority: Keypair,
    pub stake_account: Pubkey,
    pub pda: Pubkey,
}

/// A model the bootstrap registered.
#[derive(Clone, Debug)]
pub struct RegisteredModel {
    pub id: u64,
    pub address: Pubkey,
    pub index: u8,
    pub params: ModelParams,
}

/// Everything the bootstrap created.
pub struct Deployment {
    pub authority: Keypair,
    pub mint_authority: Keypair,
    pub stake_mint: Pubkey,
    pub treasury: Keypair,
    pub treasury_stake: Pubkey,
    pub config: ConfigParams,
    pub model_id: u64,
    pub model: Pubkey,
    pub model_index: u8,
    pub model_owner: Keypair,
    /// The model's registered parameters (name, profile hash, price, limits).
    pub model_params: ModelParams,
    /// The further models of [`BootstrapOptions::extra_models`], in order.
    pub extra_models: Vec<RegisteredModel>,
    pub operators: Vec<OperatorKeys>,
    pub wallet: Keypair,
}

/// Sets up the protocol on a fresh validator. Fails if the config already exists.
pub async fn bootstrap(chain: &Chain, opts: &BootstrapOptions) -> anyhow::Result<Deployment> {
    ensure!((1..=verity::constants::MAX_OPERATORS).contains(&opts.operators), "operators must be 1..=64");
    ensure!(opts.stake <= opts.minted, "stake exceeds the tokens minted per operator");
    let authority = Keypair::new();
    let treasury = Keypair::new();
    let model_owner = Keypair::new();
    let mint_authority = Keypair::new();
    let wallet = Keypair::new();
    let operator_keys: Vec<Keypair> = (0..opts.operators).map(|_| Keypair::new()).collect();
    let mut funding = vec![
        (authority.pubkey(), 10 * SOL),
        (treasury.pubkey(), 10 * SOL),
        (model_owner.pubkey(), 10 * SOL),
        (wallet.pubkey(), opts.wallet_lamports),
    ];
    funding.extend(operator_keys.iter().map(|k| (k.pubkey(), opts.operator_lamports)));
    chain.fund_many(&funding).await?;
    let stake_mint = chain.create_mint(&mint_authority.pubkey(), STAKE_DECIMALS).await?;
    let treasury_stake = chain.create_token_account(&stake_mint, &treasury.pubkey()).await?;

    let init =
        vix::initialize_config(&authority.pubkey(), &stake_mint, &treasury.pubkey(), &treasury_stake, opts.config);
    chain.send(&[init], &[&authority]).await.context("initialize_config")?;

    let model = pda::model(opts.model_id);
    let register = vix::register_model(&model_owner.pubkey(), &authority.pubkey(), opts.model_id, opts.model.clone());
    chain.send(&[register], &[&model_owner, &authority]).await.context("register_model")?;
    let model_index = chain.account::<Model>(&model).await?.index;
    let mut served = models::bit(model_index).context("model index out of range")?;
    let mut extra_models = Vec::with_capacity(opts.extra_models.len());
    for (i, params) in opts.extra_models.iter().enumerate() {
        let id = opts.model_id.checked_add(1 + i as u64).context("model id overflow")?;
        let address = pda::model(id);
        let register = vix::register_model(&model_owner.pubkey(), &authority.pubkey(), id, params.clone());
        chain.send(&[register], &[&model_owner, &authority]).await.with_context(|| format!("register_model {id}"))?;
        let index = chain.account::<Model>(&address).await?.index;
        served |= models::bit(index).context("model index out of range")?;
        extra_models.push(RegisteredModel { id, address, index, params: params.clone() });
    }

    let adds = operator_keys.into_iter().map(|k| add_operator(chain, opts, k, &stake_mint, &mint_authority, served));
    let operators = futures_util::future::try_join_all(adds).await?;
    wait_registry_in_force(chain).await?;
    Ok(Deployment {
        authority,
        mint_authority,
        stake_mint,
        treasury,
        treasury_stake,
        config: opts.config,
        model_id: opts.model_id,
        model,
        model_index,
        model_owner,
        model_params: opts.model.clone(),
        extra_models,
        operators,
        wallet,
    })
}

/// Gives a funded operator a token account with minted stake tokens, registers it serving `served` and stakes.
async fn add_operator(
    chain: &Chain,
    opts: &BootstrapOptions,
    authority: Keypair,
    mint: &Pubkey,
    mint_authority: &Keypair,
    served: u64,
) -> anyhow::Result<OperatorKeys> {
    let owner = authority.pubkey();
    let stake_account = chain.create_funded_token_account(mint, &owner, Some((mint_authority, opts.minted))).await?;
    let operator = pda::operator(&owner);
    let mut ixs = vec![vix::register_operator(&owner, served)];
    if opts.stake > 0 {
        ixs.push(vix::stake(&owner, mint, &stake_account, opts.stake));
    }
    chain.send(&ixs, &[&authority]).await.context("register_operator + stake")?;
    Ok(OperatorKeys { authority, stake_account, pda: operator })
}

/// Waits until every operator's registered values are in force for the draw (registry changes take effect
/// assign_window + 1 slots after they are made, so a request submitted earlier could not draw them and would
/// expire unassigned).
pub async fn wait_registry_in_force(chain: &Chain) -> anyhow::Result<()> {
    let registry: verity::state::OperatorRegistry = chain.account(&pda::registry()).await?;
    let in_force = registry.entries.iter().map(|e| e.effective_slot).max().unwrap_or(0);
    loop {
        let slot = chain.rpc.get_slot().await.context("getSlot")?;
        if slot > in_force {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    }
}
