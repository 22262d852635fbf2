//! `Localnet`: a real Agave test validator (JSON-RPC + websocket + faucet) with the Verity program registered as
//! a native builtin. Stopping it is quiet: Agave's service threads report their own orderly exit at ERROR level
//! (`agave_bls_sigverify::bls_sigverifier: packet_receiver disconnected: Exiting.`), so `log` records are muted
//! while the validator closes ([`QuietClose`]); everything logged before shutdown, errors included, still shows.
use {
    crate::{
        builtin::{install_syscall_stubs, program_account, register_builtin},
        chain::Chain,
    },
    anchor_lang::prelude::Pubkey,
    anyhow::{anyhow, Context},
    solana_keypair::Keypair,
    solana_net_utils::SocketAddrSpace,
    solana_rpc::rpc::JsonRpcConfig,
    solana_test_validator::{TestValidator, TestValidatorGenesis},
    std::{net::SocketAddr, path::PathBuf, sync::Mutex},
};

/// PoH ticks per slot and their duration: about 400 ms slots, like the default, with 8x fewer ticks. Each tick of
/// the low-power tick producer comes ~12 ms late (measured: 8 × 50 ms ticks made 502 ms slots), so 40 ms ticks.
pub const TICKS_PER_SLOT: u64 = 8;
pub const TICK: std::time::Duration = std::time::Duration::from_millis(40);

/// How to start the validator.
#[derive(Clone, Debug, Default)]
pub struct LocalnetOptions {
    /// JSON-RPC port (websocket: port + 1); `None` picks free ports.
    pub rpc_port: Option<u16>,
    /// Ledger directory, wiped at start (a fresh network each run); `None`: a temporary one removed on shutdown.
    pub ledger_dir: Option<PathBuf>,
}

/// A running validator. Dropping it (or [`Localnet::shutdown`]) stops it.
pub struct Localnet {
    validator: QuietClose,
    /// Holds the genesis lamports (500 M SOL) and funds the faucet.
    pub payer: Keypair,
    /// Address of the faucet serving `requestAirdrop`.
    pub faucet: SocketAddr,
    pub rpc_url: String,
    pub ws_url: String,
}

impl Localnet {
    /// Starts the validator with the Verity builtin installed and waits for its first slot.
    pub async fn start(opts: LocalnetOptions) -> anyhow::Result<Localnet> {
        install_syscall_stubs().await;
        let payer = Keypair::new();
        let faucet = solana_faucet::faucet::run_local_faucet_for_tests(payer.insecure_clone(), None, 0);
        let mut genesis = TestValidatorGenesis::default();
        genesis
            .rpc_config(JsonRpcConfig {
                enable_rpc_transaction_history: true,
                enable_extended_tx_metadata_storage: true,
                ..JsonRpcConfig::default_for_test()
            })
            .faucet_addr(Some(faucet))
            .add_account(verity::ID, program_account())
            // 400 ms slots of 8 ticks of 50 ms instead of 64 of 6.25 ms: 8x fewer entries, shreds and shred
            // signatures per slot, the bulk of an idle debug-built validator's CPU (vendor/README.md).
            .ticks_per_slot(TICKS_PER_SLOT)
            .target_tick_duration(TICK);
        // The default gossip port is fixed (start of VALIDATOR_PORT_RANGE): pick a free one so that several
        // validators (a running localnet and a test binary) can coexist.
        let gossip_port = std::net::TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .context("finding a free gossip port")?
            .port();
        genesis.gossip_port(gossip_port);
        if let Some(port) = opts.rpc_port {
            genesis.rpc_port(port);
        }
        if let Some(dir) = &opts.ledger_dir {
            if dir.exists() {
                std::fs::remove_dir_all(dir).with_context(|| format!("removing old ledger {}", dir.display()))?;
            }
            genesis.ledger_path(dir);
        }
        let validator = genesis
            .start_async_with_mint_address(&payer, SocketAddrSpace::new(true))
            .await
            .map_err(|e| anyhow!("test validator failed to start: {e}"))?;
        let forks = validator.bank_forks();
        tokio::task::spawn_blocking(move || register_builtin(&forks, verity::ID))
            .await
            .context("registering the builtin")??;
        Ok(Localnet {
            rpc_url: validator.rpc_url(),
            ws_url: validator.rpc_pubsub_url(),
            validator: QuietClose(Some(validator)),
            payer,
            faucet,
        })
    }

    /// The program id the builtin runs under.
    pub fn program_id(&self) -> Pubkey {
        verity::ID
    }

    /// A setup client paying with the genesis keypair.
    pub fn chain(&self) -> Chain {
        Chain::new(&self.rpc_url, self.payer.insecure_clone())
    }

    /// Stops the validator (also done on drop).
    pub fn shutdown(self) {
        drop(self.validator);
    }
}

/// The validator, closed (on drop) with the `log` facade muted, which is what Agave logs through; the previous
/// maximum level comes back once every validator closing at that moment is closed.
struct QuietClose(Option<TestValidator>);

/// Validators closing right now, and the `log` maximum level to restore when none is.
static CLOSING: Mutex<(usize, log::LevelFilter)> = Mutex::new((0, log::LevelFilter::Off));

impl Drop for QuietClose {
    fn drop(&mut self) {
        let Some(validator) = self.0.take() else { return };
        {
            let mut closing = CLOSING.lock().unwrap_or_else(|e| e.into_inner());
            if closing.0 == 0 {
                closing.1 = log::max_level();
                log::set_max_level(log::LevelFilter::Off);
            }
            closing.0 += 1;
        }
        // Restores the level even if closing panics (TestValidator panics when it cannot remove its ledger).
        struct Unmute;
        impl Drop for Unmute {
            fn drop(&mut self) {
                let mut closing = CLOSING.lock().unwrap_or_else(|e| e.into_inner());
                closing.0 -= 1;
                if closing.0 == 0 {
                    log::set_max_level(closing.1);
                }
            }
        }
        let _unmute = Unmute;
        drop(validator);
    }
}
