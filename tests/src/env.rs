//! `Env`: a program-test bank running the Verity builtin and the real SPL Token program, with helpers to send
//! transactions, assert the program's error codes, warp slots, and read balances and Anchor accounts.
use {
    crate::native::{install_sysvar_bridge, verity_builtin},
    anchor_lang::{prelude::Clock, AccountDeserialize},
    anchor_spl::token::spl_token,
    solana_account::Account,
    solana_compute_budget_interface::ComputeBudgetInstruction,
    solana_instruction::{error::InstructionError, Instruction},
    solana_keypair::Keypair,
    solana_program_test::{ProgramTest, ProgramTestContext},
    solana_signer::Signer,
    solana_transaction::Transaction,
    solana_transaction_error::TransactionError,
};

pub use anchor_lang::prelude::Pubkey;

/// One SOL in lamports.
pub const SOL: u64 = 1_000_000_000;

/// What a successful transaction left behind.
#[derive(Debug, Clone)]
pub struct TxOk {
    pub logs: Vec<String>,
    pub compute_units: u64,
}

/// What a failed transaction returned.
#[derive(Debug, Clone)]
pub struct TxErr {
    pub err: TransactionError,
    pub logs: Vec<String>,
}

impl TxErr {
    /// The custom program error number, if the failure was `InstructionError(_, Custom(n))`.
    pub fn custom_code(&self) -> Option<u32> {
        custom_code(&self.err)
    }
}

/// The custom error number inside a transaction error, if any.
pub fn custom_code(err: &TransactionError) -> Option<u32> {
    match err {
        TransactionError::InstructionError(_, InstructionError::Custom(n)) => Some(*n),
        _ => None,
    }
}

/// A test bank with the Verity program, the SPL Token program and a funded fee payer.
pub struct Env {
    pub ctx: ProgramTestContext,
    /// Distinguishes otherwise identical transactions so a repeat is processed, not deduplicated.
    nonce: u32,
}

impl Env {
    /// Starts a fresh bank. Every test gets its own.
    pub async fn new() -> Env {
        install_sysvar_bridge();
        let mut pt = ProgramTest::default();
        pt.prefer_bpf(false);
        pt.add_program("verity", verity::ID, Some(verity_builtin()));
        // The example consumer (an agent program that requests inference by CPI and receives the callback).
        pt.add_program("verity_consumer", verity_consumer::ID, Some(crate::consumer::ConsumerBuiltin::registerer()));
        let ctx = pt.start_with_context().await;
        Env { ctx, nonce: 0 }
    }

    /// The fee payer of every transaction sent through `Env` (so other signers' lamports move only by program
    /// logic).
    pub fn payer(&self) -> Pubkey {
        self.ctx.payer.pubkey()
    }

    /// Sends `ixs` signed by the payer and `signers`; returns logs or the transaction error. A compute-budget
    /// instruction with a per-`Env` nonce is prepended so identical transactions are not deduplicated.
    pub async fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<TxOk, TxErr> {
        self.nonce = self.nonce.wrapping_add(1);
        let mut all = Vec::with_capacity(ixs.len().saturating_add(1));
        // A distinct compute limit per transaction makes repeats distinct; price stays 0, so fees are unchanged.
        all.push(ComputeBudgetInstruction::set_compute_unit_limit(1_400_000u32.saturating_sub(self.nonce % 100_000)));
        all.extend_from_slice(ixs);
        self.send_exact(&all, signers).await
    }

    /// Sends exactly `ixs` (no nonce instruction), e.g. to check what fits a transaction.
    pub async fn send_exact(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<TxOk, TxErr> {
        // The latest blockhash, without waiting for a new one.
        let blockhash = self.ctx.banks_client.get_latest_blockhash().await.expect("blockhash");
        let mut keys: Vec<&Keypair> = vec![&self.ctx.payer];
        keys.extend(signers.iter().copied().filter(|k| k.pubkey() != self.ctx.payer.pubkey()));
        let tx = Transaction::new_signed_with_payer(ixs, Some(&self.ctx.payer.pubkey()), &keys, blockhash);
        let res = self.ctx.banks_client.process_transaction_with_metadata(tx).await.expect("banks client transport");
        let (logs, cu) = res.metadata.map(|m| (m.log_messages, m.compute_units_consumed)).unwrap_or_default();
        match res.result {
            Ok(()) => Ok(TxOk { logs, compute_units: cu }),
            Err(err) => Err(TxErr { err, logs }),
        }
    }

    /// Sends and panics (with the logs) unless the transaction succeeds.
    pub async fn ok(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> TxOk {
        match self.send(ixs, signers).await {
            Ok(ok) => ok,
            Err(e) => panic!("transaction failed: {:?}\nlogs:\n{}", e.err, e.logs.join("\n")),
        }
    }

    /// Sends and asserts it fails with exactly the error `expected`: a `VerityError` (6000 + index) or one of
    /// Anchor's framework `ErrorCode`s (constraints, account checks).
    pub async fn expect_err<E>(&mut self, ixs: &[Instruction], signers: &[&Keypair], expected: E)
    where
        E: Into<u32> + std::fmt::Debug + Copy,
    {
        let want: u32 = expected.into();
        match self.send(ixs, signers).await {
            Ok(ok) => {
                panic!("expected {expected:?} ({want}), but the transaction succeeded\nlogs:\n{}", ok.logs.join("\n"))
            }
            Err(e) => assert_eq!(
                e.custom_code(),
                Some(want),
                "expected {expected:?} ({want}), got {:?}\nlogs:\n{}",
                e.err,
                e.logs.join("\n")
            ),
        }
    }

    /// Sends and returns the error, panicking if it succeeded.
    pub async fn expect_fail(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> TxErr {
        match self.send(ixs, signers).await {
            Ok(ok) => panic!("expected failure, but the transaction succeeded\nlogs:\n{}", ok.logs.join("\n")),
            Err(e) => e,
        }
    }

    /// Transfers `lamports` from the payer to `to`.
    pub async fn fund(&mut self, to: &Pubkey, lamports: u64) {
        let ix = solana_system_interface::instruction::transfer(&self.payer(), to, lamports);
        self.ok(&[ix], &[]).await;
    }

    /// A new keypair holding `lamports`.
    pub async fn funded_keypair(&mut self, lamports: u64) -> Keypair {
        let kp = Keypair::new();
        self.fund(&kp.pubkey(), lamports).await;
        kp
    }

    /// Creates an SPL Token mint (real Token program) with `authority` as mint authority.
    pub async fn create_mint(&mut self, authority: &Pubkey, decimals: u8) -> Pubkey {
        use anchor_lang::solana_program::program_pack::Pack;
        let mint = Keypair::new();
        let rent = self.rent_exempt(spl_token::state::Mint::LEN).await;
        let create = solana_system_interface::instruction::create_account(
            &self.payer(),
            &mint.pubkey(),
            rent,
            spl_token::state::Mint::LEN as u64,
            &spl_token::ID,
        );
        let init = spl_token::instruction::initialize_mint2(&spl_token::ID, &mint.pubkey(), authority, None, decimals)
            .expect("initialize_mint2");
        self.ok(&[create, init], &[&mint]).await;
        mint.pubkey()
    }

    /// Creates a token account of `mint` owned by `owner`.
    pub async fn create_token_account(&mut self, mint: &Pubkey, owner: &Pubkey) -> Pubkey {
        use anchor_lang::solana_program::program_pack::Pack;
        let acct = Keypair::new();
        let rent = self.rent_exempt(spl_token::state::Account::LEN).await;
        let create = solana_system_interface::instruction::create_account(
            &self.payer(),
            &acct.pubkey(),
            rent,
            spl_token::state::Account::LEN as u64,
            &spl_token::ID,
        );
        let init = spl_token::instruction::initialize_account3(&spl_token::ID, &acct.pubkey(), mint, owner)
            .expect("initialize_account3");
        self.ok(&[create, init], &[&acct]).await;
        acct.pubkey()
    }

    /// Mints `amount` of `mint` into `dest`, signed by the mint authority.
    pub async fn mint_to(&mut self, mint: &Pubkey, authority: &Keypair, dest: &Pubkey, amount: u64) {
        let ix = spl_token::instruction::mint_to(&spl_token::ID, mint, dest, &authority.pubkey(), &[], amount)
            .expect("mint_to");
        self.ok(&[ix], &[authority]).await;
    }

    /// The raw account, if it exists.
    pub async fn get_account(&mut self, key: &Pubkey) -> Option<Account> {
        self.ctx.banks_client.get_account(*key).await.expect("get_account")
    }

    /// Lamports held by `key` (0 if the account does not exist).
    pub async fn lamports(&mut self, key: &Pubkey) -> u64 {
        self.get_account(key).await.map(|a| a.lamports).unwrap_or(0)
    }

    /// Sum of the lamports of `keys` (u128, so it cannot overflow).
    pub async fn lamports_sum(&mut self, keys: &[Pubkey]) -> u128 {
        let mut total = 0u128;
        for k in keys {
            total += u128::from(self.lamports(k).await);
        }
        total
    }

    /// The token amount held by an SPL token account.
    pub async fn token_balance(&mut self, key: &Pubkey) -> u64 {
        use anchor_lang::solana_program::program_pack::Pack;
        let acct = self.get_account(key).await.unwrap_or_else(|| panic!("token account {key} missing"));
        assert_eq!(acct.owner, spl_token::ID, "{key} is not owned by the Token program");
        spl_token::state::Account::unpack(&acct.data).expect("unpack token account").amount
    }

    /// Deserializes an Anchor account (checks the discriminator); panics if missing.
    pub async fn account<T: AccountDeserialize>(&mut self, key: &Pubkey) -> T {
        self.try_account(key).await.unwrap_or_else(|| panic!("account {key} does not exist"))
    }

    /// Deserializes an Anchor account if it exists.
    pub async fn try_account<T: AccountDeserialize>(&mut self, key: &Pubkey) -> Option<T> {
        let acct = self.get_account(key).await?;
        if acct.lamports == 0 {
            return None;
        }
        assert_eq!(acct.owner, verity::ID, "{key} is not owned by the Verity program");
        Some(T::try_deserialize(&mut acct.data.as_slice()).expect("deserialize anchor account"))
    }

    /// Whether an account exists (holds lamports).
    pub async fn exists(&mut self, key: &Pubkey) -> bool {
        self.lamports(key).await > 0
    }

    /// Rent-exempt minimum for `len` bytes.
    pub async fn rent_exempt(&mut self, len: usize) -> u64 {
        self.ctx.banks_client.get_rent().await.expect("rent").minimum_balance(len)
    }

    /// The bank's current slot (from the Clock sysvar).
    pub async fn slot(&mut self) -> u64 {
        self.ctx.banks_client.get_sysvar::<Clock>().await.expect("clock").slot
    }

    /// Moves the bank to `slot` (must be in the future).
    pub async fn warp_to(&mut self, slot: u64) {
        self.ctx.warp_to_slot(slot).unwrap_or_else(|e| panic!("warp to {slot}: {e:?}"));
    }

    /// Moves the bank `n` slots forward.
    pub async fn warp_by(&mut self, n: u64) {
        let now = self.slot().await;
        self.warp_to(now + n.max(1)).await;
    }
}

/// Decodes the events of type `T` in `logs` ("Program data: <base64>" lines, reaching the log collector through
/// the bridge's `sol_log_data`).
pub fn events<T>(logs: &[String]) -> Vec<T>
where
    T: anchor_lang::Discriminator + anchor_lang::AnchorDeserialize,
{
    use anchor_lang::__private::base64::{engine::general_purpose::STANDARD, Engine};
    logs.iter()
        .filter_map(|l| l.strip_prefix("Program data: "))
        .filter_map(|b64| STANDARD.decode(b64.split(' ').next()?).ok())
        .filter_map(|bytes| {
            let rest = bytes.strip_prefix(T::DISCRIMINATOR)?;
            T::deserialize(&mut &rest[..]).ok()
        })
        .collect()
}
