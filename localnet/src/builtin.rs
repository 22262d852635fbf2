//! Makes the natively compiled Verity program executable inside a running test validator: the genesis account
//! at the program id, the builtin registered on every bank, and the syscall stubs CPI and sysvars go through.
use {
    anchor_lang::prelude::Pubkey,
    solana_account::{Account, AccountSharedData},
    solana_program_runtime::program_cache_entry::ProgramCacheEntry,
    solana_runtime::bank_forks::BankForks,
    std::{
        collections::HashSet,
        sync::{Arc, RwLock},
        time::{Duration, Instant},
    },
    tokio::sync::OnceCell,
};

/// Name stored in the builtin's program account (as the runtime does for its own builtins).
pub const BUILTIN_NAME: &str = "verity";

/// The genesis account at the program id: executable, owned by the native loader.
pub fn program_account() -> AccountSharedData {
    AccountSharedData::from(Account {
        lamports: 1,
        data: BUILTIN_NAME.as_bytes().to_vec(),
        owner: solana_sdk_ids::native_loader::ID,
        executable: true,
        rent_epoch: 0,
    })
}

/// Installs the syscall stubs once per process: program-test's 4.x stubs (CPI, return data, logs), which only
/// `ProgramTest::start` installs, so a throw-away `ProgramTest` bank is started once, and the 3.x → 4.x bridge
/// from `verity-native` that Anchor's code calls into. Program-test reads the `InvokeContext` from a thread-local
/// that [`verity_native::VerityBuiltin`] sets per instruction, so they work on the validator's threads too.
pub async fn install_syscall_stubs() {
    static STUBS: OnceCell<()> = OnceCell::const_new();
    STUBS
        .get_or_init(|| async {
            let (banks, _payer, _hash) = solana_program_test::ProgramTest::default().start().await;
            drop(banks);
            verity_native::install_sysvar_bridge();
        })
        .await;
}

/// Registers the Verity builtin on every bank of `bank_forks`; banks created later inherit it from their parent.
/// A bank forked from a parent while that parent was being registered would lack it, so for [`SETTLE`] passes
/// (100 ms apart) keep registering banks not seen before; any bank forked from an unregistered parent exists by
/// then. Registering a bank that already inherited the builtin is harmless. Returns the number of banks handled.
pub fn register_builtin(bank_forks: &Arc<RwLock<BankForks>>, program_id: Pubkey) -> anyhow::Result<usize> {
    let start = Instant::now();
    let mut done: HashSet<u64> = HashSet::new();
    while done.is_empty() || start.elapsed() < SETTLE {
        let banks = bank_forks
            .read()
            .map_err(|_| anyhow::anyhow!("bank forks lock poisoned"))?
            .banks()
            .iter()
            .filter(|(slot, _)| !done.contains(*slot))
            .map(|(slot, bank)| (*slot, bank.clone_without_scheduler()))
            .collect::<Vec<_>>();
        for (slot, bank) in banks {
            let entry = ProgramCacheEntry::new_builtin(0, BUILTIN_NAME.len(), verity_native::verity_builtin());
            bank.add_builtin(program_id, BUILTIN_NAME, entry);
            done.insert(slot);
        }
        anyhow::ensure!(start.elapsed() < Duration::from_secs(10), "no bank to register the Verity builtin on");
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(done.len())
}

/// How long [`register_builtin`] keeps registering newly appearing banks (a few 400 ms slots).
pub const SETTLE: Duration = Duration::from_millis(1_500);
