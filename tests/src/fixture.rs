//! `Protocol`: a bank with an initialized Verity config, a stake mint, registered models and staked operators,
//! plus instruction builders for setup (config, models, operators, staking) built from Anchor's client types.
use {
    crate::{env::Env, pda},
    anchor_lang::{prelude::Pubkey, InstructionData, ToAccountMetas},
    solana_instruction::{AccountMeta, Instruction},
    solana_keypair::Keypair,
    solana_signer::Signer,
    verity::state::{ConfigParams, ModelParams},
    verity_client::ix as vix,
};

/// Builds a Verity instruction from Anchor's generated accounts struct and instruction data (the client crate's).
pub use verity_client::ix::ix;

/// Same as [`ix`] with extra (remaining) accounts appended.
pub fn ix_with(accounts: impl ToAccountMetas, data: impl InstructionData, extra: Vec<AccountMeta>) -> Instruction {
    let mut i = ix(accounts, data);
    i.accounts.extend(extra);
    i
}

/// Parameters used by most tests: k = 3, short windows, 10 % slash, 5 % protocol fee.
pub fn default_params() -> ConfigParams {
    ConfigParams {
        protocol_fee_bps: 500,
        slash_bps: 1_000,
        slash_treasury_bps: 5_000,
        committee_size: 3,
        assign_window: 20,
        commit_window: 20,
        reveal_window: 20,
        dispute_window: 10,
        unbonding_slots: 50,
        min_stake: 1_000,
        dispute_bond: 1_000_000,
    }
}

/// Model parameters used by most tests: 10 lamports per token, 256-byte prompts, 64 tokens, 10 % royalty.
pub fn default_model_params() -> ModelParams {
    ModelParams {
        name: "smollm2-135m-instruct".into(),
        profile_hash: pda::sha256(&[b"test profile"]),
        price_per_token: 1_000,
        max_input_bytes: 256,
        max_output_tokens: 64,
        royalty_bps: 1_000,
        param_count: 134_515_008,
    }
}

/// A registered model.
pub struct ModelFx {
    pub id: u64,
    pub key: Pubkey,
    pub owner: Keypair,
    pub params: ModelParams,
}

/// A registered operator, its stake-token account and PDA.
pub struct OperatorFx {
    pub authority: Keypair,
    pub tokens: Pubkey,
    pub pda: Pubkey,
}

/// A bank with an initialized protocol.
pub struct Protocol {
    pub env: Env,
    pub authority: Keypair,
    pub mint_authority: Keypair,
    pub stake_mint: Pubkey,
    pub treasury: Pubkey,
    pub treasury_stake: Pubkey,
    pub params: ConfigParams,
    pub models: Vec<ModelFx>,
    pub operators: Vec<OperatorFx>,
}

/// Lamports the treasury starts with (rent-exempt system account).
pub const TREASURY_START: u64 = 1_000_000_000;

impl Protocol {
    /// Stake mint (6 decimals) and treasury accounts, without `initialize_config`.
    pub async fn bare(params: ConfigParams) -> Protocol {
        let mut env = Env::new().await;
        let authority = env.funded_keypair(10 * crate::SOL).await;
        let mint_authority = Keypair::new();
        let stake_mint = env.create_mint(&mint_authority.pubkey(), 6).await;
        let treasury = Keypair::new().pubkey();
        env.fund(&treasury, TREASURY_START).await;
        let treasury_stake = env.create_token_account(&stake_mint, &treasury).await;
        Protocol {
            env,
            authority,
            mint_authority,
            stake_mint,
            treasury,
            treasury_stake,
            params,
            models: Vec::new(),
            operators: Vec::new(),
        }
    }

    /// [`Protocol::bare`] plus `initialize_config(params)` signed by the authority.
    pub async fn new(params: ConfigParams) -> Protocol {
        let mut p = Protocol::bare(params).await;
        let init = p.ix_initialize_config(params);
        let authority = p.authority.insecure_clone();
        p.env.ok(&[init], &[&authority]).await;
        p
    }

    /// Config + one model (default params) + `n` operators serving it, each staking `stake`.
    pub async fn with_operators(params: ConfigParams, n: usize, stake: u64) -> Protocol {
        let mut p = Protocol::new(params).await;
        p.add_model(default_model_params()).await;
        for _ in 0..n {
            p.add_operator(stake).await;
        }
        // Registry changes become drawable only `assign_window + 1` slots after they are made (PROTOCOL.md).
        p.activate_registry().await;
        p
    }

    /// The standard setup: default params, one model, 3 operators with 100_000 stake each.
    pub async fn standard() -> Protocol {
        Protocol::with_operators(default_params(), 3, 100_000).await
    }

    pub fn ix_initialize_config(&self, params: ConfigParams) -> Instruction {
        vix::initialize_config(&self.authority.pubkey(), &self.stake_mint, &self.treasury, &self.treasury_stake, params)
    }

    /// `register_model` by `owner`, approved by the config authority (who must co-sign).
    pub fn ix_register_model(&self, owner: &Pubkey, model_id: u64, params: ModelParams) -> Instruction {
        vix::register_model(owner, &self.authority.pubkey(), model_id, params)
    }

    pub fn ix_register_operator(&self, authority: &Pubkey, served_models: u64) -> Instruction {
        vix::register_operator(authority, served_models)
    }

    pub fn ix_stake(&self, authority: &Pubkey, source: &Pubkey, amount: u64) -> Instruction {
        vix::stake(authority, &self.stake_mint, source, amount)
    }

    pub fn ix_request_unstake(&self, authority: &Pubkey, amount: u64) -> Instruction {
        vix::request_unstake(authority, amount)
    }

    pub fn ix_withdraw_stake(&self, authority: &Pubkey, destination: &Pubkey) -> Instruction {
        vix::withdraw(authority, &self.stake_mint, destination)
    }

    pub fn ix_set_served_models(&self, authority: &Pubkey, served_models: u64) -> Instruction {
        vix::set_served_models(authority, served_models)
    }

    pub fn ix_deregister_operator(&self, authority: &Pubkey) -> Instruction {
        vix::deregister_operator(authority)
    }

    /// Registers a model with the next free id, owned by a fresh funded keypair. Returns its index in `models`.
    pub async fn add_model(&mut self, params: ModelParams) -> usize {
        let owner = self.env.funded_keypair(crate::SOL).await;
        let id = 100 + self.models.len() as u64;
        let reg = self.ix_register_model(&owner.pubkey(), id, params.clone());
        let authority = self.authority.insecure_clone();
        self.env.ok(&[reg], &[&owner, &authority]).await;
        self.models.push(ModelFx { id, key: pda::model(id), owner, params });
        self.models.len() - 1
    }

    /// Registers an operator serving model index 0 and stakes `stake` (0: no stake). Returns its index.
    pub async fn add_operator(&mut self, stake: u64) -> usize {
        self.add_operator_serving(stake, 1).await
    }

    /// Registers an operator serving the models of bitmap `served`, minting it 1_000_000 stake tokens.
    pub async fn add_operator_serving(&mut self, stake: u64, served: u64) -> usize {
        let authority = self.env.funded_keypair(crate::SOL).await;
        let tokens = self.env.create_token_account(&self.stake_mint, &authority.pubkey()).await;
        let mint_authority = self.mint_authority.insecure_clone();
        self.env.mint_to(&self.stake_mint, &mint_authority, &tokens, 1_000_000).await;
        let reg = self.ix_register_operator(&authority.pubkey(), served);
        let mut ixs = vec![reg];
        if stake > 0 {
            ixs.push(self.ix_stake(&authority.pubkey(), &tokens, stake));
        }
        self.env.ok(&ixs, &[&authority]).await;
        self.operators.push(OperatorFx { pda: pda::operator(&authority.pubkey()), authority, tokens });
        self.operators.len() - 1
    }

    /// Operator `i`'s on-chain account.
    pub async fn operator(&mut self, i: usize) -> verity::state::Operator {
        let key = self.operators[i].pda;
        self.env.account(&key).await
    }

    pub async fn config(&mut self) -> verity::state::Config {
        self.env.account(&pda::config()).await
    }

    pub async fn registry(&mut self) -> verity::state::OperatorRegistry {
        self.env.account(&pda::registry()).await
    }

    /// Stake tokens held by the vault.
    pub async fn vault_balance(&mut self) -> u64 {
        self.env.token_balance(&pda::stake_vault()).await
    }

    /// Asserts the vault holds exactly Σ (stake + unbonding) of all operators (PROTOCOL.md invariant).
    pub async fn assert_vault_matches_books(&mut self) {
        let mut books = 0u64;
        for i in 0..self.operators.len() {
            let key = self.operators[i].pda;
            if let Some(o) = self.env.try_account::<verity::state::Operator>(&key).await {
                books += o.stake + o.unbonding;
            }
        }
        assert_eq!(self.vault_balance().await, books, "vault != Σ stake + unbonding");
    }
}
