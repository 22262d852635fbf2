//! End-to-end tests over real JSON-RPC and websockets against one bootstrapped localnet per test binary: the
//! bootstrap's accounts decode with the program's types, SPL Token CPI moved stake, requests submitted by a
//! wallet show up in `getProgramAccounts` and in `programSubscribe` / `logsSubscribe`, and program errors come
//! back with the program's own code.
use {
    anchor_lang::{AccountDeserialize, Discriminator},
    futures_util::StreamExt,
    solana_commitment_config::CommitmentConfig,
    solana_keypair::Keypair,
    solana_pubsub_client::nonblocking::pubsub_client::PubsubClient,
    solana_rpc_client_api::config::{
        RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcTransactionLogsConfig, RpcTransactionLogsFilter,
    },
    solana_signer::Signer,
    std::{
        path::PathBuf,
        sync::{
            atomic::{AtomicU64, Ordering},
            OnceLock,
        },
        time::Duration,
    },
    verity::{
        state::{Config, Model, Operator, OperatorRegistry, Request, RequestStatus},
        Sampling, SubmitRequestArgs, VerityError,
    },
    verity_localnet::{
        bootstrap::ix, chain::custom_code, info::read_keypair, launch, pda, BootstrapOptions, Chain, LocalnetInfo,
        LocalnetOptions, Network, STAKE_TOKEN,
    },
};

const OPERATORS: usize = 3;
const PROFILE: [u8; 32] = [7; 32];

struct Shared {
    rt: tokio::runtime::Runtime,
    net: Network,
    dir: PathBuf,
}

/// The one localnet of this test binary (started on first use; tests share it and use distinct nonces).
fn shared() -> &'static Shared {
    static NET: OnceLock<Shared> = OnceLock::new();
    NET.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("verity-localnet-test");
        let _ = std::fs::remove_dir_all(&dir);
        let started = std::time::Instant::now();
        let boot = BootstrapOptions::new(OPERATORS, PROFILE);
        let net = rt.block_on(launch(&dir, LocalnetOptions::default(), &boot)).expect("localnet launch");
        eprintln!("localnet started + bootstrapped in {:.1}s", started.elapsed().as_secs_f64());
        Shared { rt, net, dir }
    })
}

fn wallet_chain(s: &Shared) -> Chain {
    Chain::new(&s.net.info.rpc_url, s.net.deployment.wallet.insecure_clone())
}

static NONCE: AtomicU64 = AtomicU64::new(1);

fn submit_args(fee: u64) -> SubmitRequestArgs {
    SubmitRequestArgs {
        nonce: NONCE.fetch_add(1, Ordering::SeqCst),
        prompt: b"What is the capital of France?".to_vec(),
        prompt_hash: None,
        prompt_uri: String::new(),
        max_tokens: 16,
        fee,
        output_capacity: 256,
        callback_program: None,
        sampling: Sampling::GREEDY,
    }
}

fn submit_ix(
    requester: &Keypair,
    model: anchor_lang::prelude::Pubkey,
    args: SubmitRequestArgs,
) -> solana_instruction::Instruction {
    let request = pda::request(&requester.pubkey(), args.nonce);
    ix(
        verity::accounts::SubmitRequest {
            requester: requester.pubkey(),
            config: pda::config(),
            model,
            request,
            output: pda::output(&request),
            system_program: anchor_lang::system_program::ID,
            prompt: None,
        },
        verity::instruction::SubmitRequest { args },
    )
}

#[test]
fn bootstrap_accounts_decode_over_rpc() {
    let s = shared();
    s.rt.block_on(async {
        let chain = s.net.localnet.chain();
        let d = &s.net.deployment;
        let config: Config = chain.account(&pda::config()).await.unwrap();
        assert_eq!(config.params.committee_size, 3);
        assert_eq!(config.params.commit_window, 150);
        assert_eq!(config.params.reveal_window, 150);
        assert_eq!(config.stake_mint, d.stake_mint);
        assert_eq!(config.treasury, d.treasury.pubkey());
        assert_eq!(config.model_count, 1);

        let model: Model = chain.account(&d.model).await.unwrap();
        assert_eq!(model.profile_hash, PROFILE);
        assert_eq!(model.model_id, 1);
        assert_eq!(model.name, "smollm2-135m-instruct");
        assert!(model.active);

        let registry: OperatorRegistry = chain.account(&pda::registry()).await.unwrap();
        assert_eq!(registry.entries.len(), OPERATORS);
        for op in &d.operators {
            let o: Operator = chain.account(&op.pda).await.unwrap();
            assert_eq!(o.authority, op.authority.pubkey());
            assert_eq!(o.stake, 100 * STAKE_TOKEN);
            assert_eq!(o.served_models, 1u64 << model.index);
            let entry = registry.entries.iter().find(|e| e.authority == op.authority.pubkey()).expect("in registry");
            assert_eq!(entry.stake, 100 * STAKE_TOKEN);
        }
    });
}

#[test]
fn stake_cpi_moved_tokens_into_the_vault() {
    let s = shared();
    s.rt.block_on(async {
        let chain = s.net.localnet.chain();
        let vault = chain.token_balance(&pda::stake_vault()).await.unwrap();
        assert_eq!(vault, OPERATORS as u64 * 100 * STAKE_TOKEN, "vault must hold every operator's stake");
        for op in &s.net.deployment.operators {
            assert_eq!(chain.token_balance(&op.stake_account).await.unwrap(), 900 * STAKE_TOKEN);
        }
    });
}

#[test]
fn state_file_describes_the_network() {
    let s = shared();
    let info = LocalnetInfo::load(&s.dir).unwrap();
    assert_eq!(info, s.net.info);
    assert_eq!(info.program_id, verity::ID.to_string());
    assert_eq!(info.model.profile_hash, "07".repeat(32));
    assert_eq!(info.operators.len(), OPERATORS);
    for (op, keys) in info.operators.iter().zip(&s.net.deployment.operators) {
        assert_eq!(read_keypair(&op.keypair).unwrap().pubkey(), keys.authority.pubkey());
        assert_eq!(op.operator, keys.pda.to_string());
    }
    let wallet = read_keypair(&info.wallet_keypair).unwrap();
    assert_eq!(wallet.pubkey().to_string(), info.wallet);
    s.rt.block_on(async {
        let chain = s.net.localnet.chain();
        assert!(chain.rpc.get_balance(&wallet.pubkey()).await.unwrap() > 100 * verity_localnet::SOL);
    });
}

#[test]
fn airdrop_through_the_faucet() {
    let s = shared();
    s.rt.block_on(async {
        let chain = s.net.localnet.chain();
        let who = Keypair::new().pubkey();
        let sig = chain.rpc.request_airdrop(&who, 5 * verity_localnet::SOL).await.unwrap();
        for _ in 0..60 {
            if chain.rpc.confirm_transaction(&sig).await.unwrap() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert_eq!(chain.rpc.get_balance(&who).await.unwrap(), 5 * verity_localnet::SOL);
    });
}

#[test]
fn wallet_request_appears_in_get_program_accounts() {
    let s = shared();
    s.rt.block_on(async {
        let chain = wallet_chain(s);
        let wallet = &s.net.deployment.wallet;
        let args = submit_args(100_000);
        let request = pda::request(&wallet.pubkey(), args.nonce);
        let slot_before = chain.rpc.get_slot().await.unwrap();
        chain.send(&[submit_ix(wallet, s.net.deployment.model, args.clone())], &[]).await.unwrap();

        let accounts = chain.rpc.get_program_accounts(&verity::ID).await.unwrap();
        let (_, account) = accounts.iter().find(|(k, _)| *k == request).expect("request in getProgramAccounts");
        assert_eq!(&account.data[..8], Request::DISCRIMINATOR);
        let r = Request::try_deserialize(&mut account.data.as_slice()).unwrap();
        assert_eq!(r.requester, wallet.pubkey());
        assert_eq!(r.fee, 100_000);
        assert_eq!(r.prompt, args.prompt);
        assert_eq!(r.profile_hash, PROFILE);
        assert_eq!(r.status, RequestStatus::Pending);
        // Clock::get() inside the builtin (sysvar bridge) saw the validator's real slot.
        assert!(r.submit_slot >= slot_before, "submit_slot {} < {slot_before}", r.submit_slot);
    });
}

#[test]
fn program_error_code_comes_back_over_rpc() {
    let s = shared();
    s.rt.block_on(async {
        let chain = wallet_chain(s);
        let low_fee = submit_args(1); // below price_per_token (1000) × max_tokens (16)
        let err = chain.try_send(&[submit_ix(&s.net.deployment.wallet, s.net.deployment.model, low_fee)], &[]).await;
        let err = err.expect_err("fee below the minimum must fail");
        assert_eq!(custom_code(&err), Some(u32::from(VerityError::FeeTooLow)), "{err}");
    });
}

#[test]
fn websocket_program_and_logs_subscriptions_see_a_request() {
    let s = shared();
    s.rt.block_on(async {
        let pubsub = PubsubClient::new(s.net.info.ws_url.as_str()).await.unwrap();
        let confirmed = Some(CommitmentConfig::confirmed());
        let config = RpcProgramAccountsConfig {
            account_config: RpcAccountInfoConfig { commitment: confirmed, ..Default::default() },
            ..Default::default()
        };
        let (mut programs, _unsub_p) = pubsub.program_subscribe(&verity::ID, Some(config)).await.unwrap();
        let filter = RpcTransactionLogsFilter::Mentions(vec![verity::ID.to_string()]);
        let (mut logs, _unsub_l) =
            pubsub.logs_subscribe(filter, RpcTransactionLogsConfig { commitment: confirmed }).await.unwrap();

        let chain = wallet_chain(s);
        let wallet = &s.net.deployment.wallet;
        let args = submit_args(100_000);
        let request = pda::request(&wallet.pubkey(), args.nonce).to_string();
        let sig = chain.send(&[submit_ix(wallet, s.net.deployment.model, args)], &[]).await.unwrap().to_string();

        let wait = Duration::from_secs(30);
        tokio::time::timeout(wait, async {
            while let Some(n) = programs.next().await {
                if n.value.pubkey == request {
                    return;
                }
            }
            panic!("program subscription closed");
        })
        .await
        .expect("programSubscribe notification for the request");
        let log = tokio::time::timeout(wait, async {
            while let Some(n) = logs.next().await {
                if n.value.signature == sig {
                    return n.value;
                }
            }
            panic!("logs subscription closed");
        })
        .await
        .expect("logsSubscribe notification for the transaction");
        assert!(log.err.is_none());
        assert!(log.logs.iter().any(|l| l.contains(&format!("Program {} invoke", verity::ID))), "{:?}", log.logs);
        // `msg!` lines do not reach the log collector natively; `emit!` events do (through the sysvar bridge).
        assert!(log.logs.iter().any(|l| l.starts_with("Program data: ")), "{:?}", log.logs);
        assert!(log.logs.iter().any(|l| l == &format!("Program {} success", verity::ID)), "{:?}", log.logs);
    });
}
