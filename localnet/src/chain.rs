//! A thin JSON-RPC client for setting up the network: send instructions, fund accounts, SPL Token mint/account/
//! mint_to (the real Token program the validator ships) and reading Anchor accounts.
use {
    anchor_lang::{prelude::Pubkey, solana_program::program_pack::Pack, AccountDeserialize},
    anchor_spl::token::spl_token,
    anyhow::{anyhow, Context},
    solana_commitment_config::CommitmentConfig,
    solana_instruction::Instruction,
    solana_keypair::Keypair,
    solana_rpc_client::nonblocking::rpc_client::RpcClient,
    solana_rpc_client_api::client_error::Error as ClientError,
    solana_signature::Signature,
    solana_signer::Signer,
    solana_transaction::Transaction,
};

/// The custom program error code (`ProgramError::Custom`, e.g. a `VerityError`) a failed transaction returned.
pub fn custom_code(err: &ClientError) -> Option<u32> {
    verity_client::tx_error_code(&err.get_transaction_error()?)
}

/// An RPC connection plus the fee payer used for setup transactions.
pub struct Chain {
    pub rpc: RpcClient,
    pub payer: Keypair,
}

impl Chain {
    /// Connects to `rpc_url` at `confirmed` commitment with `payer` paying fees.
    pub fn new(rpc_url: &str, payer: Keypair) -> Chain {
        Chain { rpc: RpcClient::new_with_commitment(rpc_url.to_string(), CommitmentConfig::confirmed()), payer }
    }

    /// Sends `ixs` in one transaction paid by the payer and signed by `signers`; waits for confirmation.
    pub async fn try_send(&self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<Signature, ClientError> {
        let blockhash = self.rpc.get_latest_blockhash().await?;
        let mut all: Vec<&Keypair> = vec![&self.payer];
        all.extend_from_slice(signers);
        let tx = Transaction::new_signed_with_payer(ixs, Some(&self.payer.pubkey()), &all, blockhash);
        self.rpc.send_and_confirm_transaction(&tx).await
    }

    /// [`Chain::try_send`] with the error (and the program's error code, if any) as an `anyhow` error.
    pub async fn send(&self, ixs: &[Instruction], signers: &[&Keypair]) -> anyhow::Result<Signature> {
        self.try_send(ixs, signers).await.map_err(|e| match custom_code(&e) {
            Some(code) => anyhow!("transaction failed with program error {code}: {e}"),
            None => anyhow!("transaction failed: {e}"),
        })
    }

    /// Transfers `lamports` from the payer to `to`.
    pub async fn fund(&self, to: &Pubkey, lamports: u64) -> anyhow::Result<()> {
        let ix = solana_system_interface::instruction::transfer(&self.payer.pubkey(), to, lamports);
        self.send(&[ix], &[]).await.map(drop).with_context(|| format!("funding {to}"))
    }

    /// Transfers lamports from the payer to each `(to, lamports)`, several per transaction.
    pub async fn fund_many(&self, targets: &[(Pubkey, u64)]) -> anyhow::Result<()> {
        for chunk in targets.chunks(8) {
            let ixs: Vec<_> = chunk
                .iter()
                .map(|(to, lamports)| {
                    solana_system_interface::instruction::transfer(&self.payer.pubkey(), to, *lamports)
                })
                .collect();
            self.send(&ixs, &[]).await.context("funding accounts")?;
        }
        Ok(())
    }

    /// Creates `signers[0]`'s account with `len` bytes owned by `owner`, rent-exempt, then runs `init` in the same
    /// transaction (signed by all of `signers`).
    async fn create_owned(
        &self,
        signers: &[&Keypair],
        len: usize,
        owner: &Pubkey,
        init: Vec<Instruction>,
    ) -> anyhow::Result<Pubkey> {
        let account = signers.first().context("no account keypair")?.pubkey();
        let rent = self.rpc.get_minimum_balance_for_rent_exemption(len).await.context("rent")?;
        let create = solana_system_interface::instruction::create_account(
            &self.payer.pubkey(),
            &account,
            rent,
            u64::try_from(len)?,
            owner,
        );
        let mut ixs = vec![create];
        ixs.extend(init);
        self.send(&ixs, signers).await?;
        Ok(account)
    }

    /// Creates an SPL Token mint with `authority` as mint authority.
    pub async fn create_mint(&self, authority: &Pubkey, decimals: u8) -> anyhow::Result<Pubkey> {
        let mint = Keypair::new();
        let init = spl_token::instruction::initialize_mint2(&spl_token::ID, &mint.pubkey(), authority, None, decimals)
            .map_err(|e| anyhow!("initialize_mint2: {e}"))?;
        self.create_owned(&[&mint], spl_token::state::Mint::LEN, &spl_token::ID, vec![init])
            .await
            .context("creating a mint")
    }

    /// Creates a token account of `mint` owned by `owner`.
    pub async fn create_token_account(&self, mint: &Pubkey, owner: &Pubkey) -> anyhow::Result<Pubkey> {
        self.create_funded_token_account(mint, owner, None).await
    }

    /// Creates a token account of `mint` owned by `owner` and, with `Some((authority, amount))`, mints `amount`
    /// into it in the same transaction.
    pub async fn create_funded_token_account(
        &self,
        mint: &Pubkey,
        owner: &Pubkey,
        mint_to: Option<(&Keypair, u64)>,
    ) -> anyhow::Result<Pubkey> {
        let account = Keypair::new();
        let mut ixs = vec![spl_token::instruction::initialize_account3(&spl_token::ID, &account.pubkey(), mint, owner)
            .map_err(|e| anyhow!("initialize_account3: {e}"))?];
        let mut signers = vec![&account];
        if let Some((authority, amount)) = mint_to {
            ixs.push(
                spl_token::instruction::mint_to(
                    &spl_token::ID,
                    mint,
                    &account.pubkey(),
                    &authority.pubkey(),
                    &[],
                    amount,
                )
                .map_err(|e| anyhow!("mint_to: {e}"))?,
            );
            signers.push(authority);
        }
        self.create_owned(&signers, spl_token::state::Account::LEN, &spl_token::ID, ixs)
            .await
            .with_context(|| format!("creating a token account for {owner}"))
    }

    /// Mints `amount` of `mint` into `dest`, signed by the mint authority.
    pub async fn mint_to(&self, mint: &Pubkey, authority: &Keypair, dest: &Pubkey, amount: u64) -> anyhow::Result<()> {
        let ix = spl_token::instruction::mint_to(&spl_token::ID, mint, dest, &authority.pubkey(), &[], amount)
            .map_err(|e| anyhow!("mint_to: {e}"))?;
        self.send(&[ix], &[authority]).await.map(drop)
    }

    /// Fetches and deserializes the Anchor account at `key` (discriminator checked).
    pub async fn account<T: AccountDeserialize>(&self, key: &Pubkey) -> anyhow::Result<T> {
        let acct = self.rpc.get_account(key).await.with_context(|| format!("getAccountInfo {key}"))?;
        T::try_deserialize(&mut acct.data.as_slice()).map_err(|e| anyhow!("decoding account {key}: {e}"))
    }

    /// Token amount held by the SPL token account at `key`.
    pub async fn token_balance(&self, key: &Pubkey) -> anyhow::Result<u64> {
        let acct = self.rpc.get_account(key).await.with_context(|| format!("getAccountInfo {key}"))?;
        let state = spl_token::state::Account::unpack(&acct.data).map_err(|e| anyhow!("token account {key}: {e}"))?;
        Ok(state.amount)
    }
}
