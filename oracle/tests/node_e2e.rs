//! Over real JSON-RPC against the in-process validator with 3 real-inference nodes: several concurrent requests
//! all finalize with the engine's output and the protocol's payouts; bad input gets clear errors (client side and
//! the program's own codes).
#![cfg(feature = "localnet")]
mod node_support;

use {
    node_support::*,
    solana_signer::Signer,
    std::{sync::OnceLock, time::Duration},
    verity::{
        state::{Outcome, Request, RequestStatus},
        SubmitRequestArgs, VerityError,
    },
    verity_oracle::{
        chain::{decode, ix, pda, wallet, ChainError},
        node::{cluster::Cluster, engine::Infer},
    },
};

struct Shared {
    rt: tokio::runtime::Runtime,
    cluster: Cluster,
    engine: std::sync::Arc<dyn Infer>,
}

fn shared() -> &'static Shared {
    static S: OnceLock<Shared> = OnceLock::new();
    S.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
        let engine = engine();
        let cluster = rt.block_on(async {
            let mut c = cluster("node-e2e", 3, 60, engine.profile_hash()).await;
            c.start_all(engine.clone()).await.expect("nodes start");
            c
        });
        Shared { rt, cluster, engine }
    })
}

#[test]
fn three_nodes_finalize_concurrent_requests_with_identical_outputs_and_payouts() {
    let s = shared();
    s.rt.block_on(async {
        let chain = s.cluster.client().unwrap();
        let prompts = ["What is the capital of France?", "Name a primary color.", "What is 2+2?"];
        let t = std::time::Instant::now();
        let mut keys = Vec::new();
        for p in prompts {
            keys.push(submit(&chain, &s.cluster, p).await);
        }
        for (key, prompt) in keys.iter().zip(prompts) {
            let r = wallet::wait_final(&chain, key, Duration::from_secs(240)).await.unwrap();
            assert_eq!(r.status, RequestStatus::Finalized, "{}", wallet::describe(key, &r, None));
            let text = wallet::wait_output(&chain, key, Duration::from_secs(60)).await.unwrap();
            assert_eq!(text, expected_text(&s.engine, prompt).await, "on-chain output = the engine's output");
            assert_eq!(r.winning_hash, verity::logic::output_hash(&r.profile_hash, text.as_bytes()));
            assert!(r
                .committee
                .members
                .iter()
                .all(|m| m.outcome == Outcome::Agreed && m.output_hash == r.winning_hash));
            assert_eq!(r.receipt.agreement_count, 3);
            // Fee split: royalty and protocol fee by bps, the rest equally to the 3 agreed members.
            let royalty = r.fee * u64::from(r.royalty_bps) / 10_000;
            let protocol = r.fee * u64::from(r.protocol_fee_bps) / 10_000;
            assert_eq!(r.royalty_paid, royalty);
            let rest = r.fee - royalty - protocol;
            let each = rest / 3;
            // protocol fee + the split's remainder go to the treasury.
            assert!(r.protocol_fee_paid == protocol || r.protocol_fee_paid == protocol + rest % 3, "{r:?}");
            assert_eq!(r.rewards_total, each * 3);
            assert!(
                r.committee.members.iter().all(|m| m.reward == each && m.slashed == 0),
                "{}",
                wallet::describe(key, &r, None)
            );
            eprintln!("{}", wallet::describe(key, &r, None));
        }
        eprintln!("3 requests finalized in {:.1}s", t.elapsed().as_secs_f64());
        // Rewards are claimed by the nodes once the dispute window is over.
        for key in &keys {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            loop {
                let r: Request = chain.account(key, "Request").await.unwrap();
                if r.committee.members.iter().all(|m| m.claimed) {
                    assert_eq!(r.rewards_claimed, r.rewards_total);
                    assert!(r.rewards_claimed > 0);
                    break;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "rewards not claimed: {}",
                    wallet::describe(key, &r, None)
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        // Each node counted the finalized requests once it was done with them, and failed no transaction.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        for n in &s.cluster.nodes {
            while n.metrics.counter("finalized") < 3 && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            assert!(n.metrics.counter("finalized") >= 3, "{}", n.metrics.render());
            assert_eq!(n.metrics.counter("tx_failed"), 0);
            assert!(n.metrics.counter("tokens_out") > 0);
            assert!(n.metrics.render().contains("verity_jobs{state=\"done\"}"));
        }
    });
}

#[test]
fn bad_input_gets_clear_errors() {
    let s = shared();
    s.rt.block_on(async {
        let chain = s.cluster.client().unwrap();
        let w = wallet(&s.cluster);
        // Unknown model.
        let mut a = ask(&s.cluster, "hi");
        a.model = anchor_lang::prelude::Pubkey::new_unique();
        let e = wallet::submit(&chain, &w, &a).await.unwrap_err().to_string();
        assert!(e.contains("unknown model"), "{e}");
        // Oversized prompt: refused by the client before sending…
        let big = "x".repeat(600);
        let e = wallet::submit(&chain, &w, &ask(&s.cluster, &big)).await.unwrap_err().to_string();
        assert!(e.contains("accepts at most 512"), "{e}");
        // …and by the program with its own code when sent anyway.
        let args = SubmitRequestArgs {
            nonce: 999_001,
            prompt: big.into_bytes(),
            prompt_hash: None,
            prompt_uri: String::new(),
            max_tokens: MAX_TOKENS,
            fee: 1_000_000,
            output_capacity: 64,
            callback_program: None,
        };
        let err = chain.send("submit", &[ix::submit(&w.pubkey(), &s.cluster.net.deployment.model, args)], &w).await;
        assert!(matches!(&err, Err(e) if e.is(VerityError::PromptTooLarge)), "{err:?}");
        // Empty prompt and zero max_tokens.
        assert!(wallet::submit(&chain, &w, &ask(&s.cluster, ""))
            .await
            .unwrap_err()
            .to_string()
            .contains("empty prompt"));
        let mut a = ask(&s.cluster, "hi");
        a.max_tokens = 0;
        assert!(wallet::submit(&chain, &w, &a).await.unwrap_err().to_string().contains("max_tokens"));
        // Malformed account data: the Config account is not a Request; garbage bytes are not a Request.
        let e = chain.account::<Request>(&pda::config(), "Request").await.unwrap_err();
        assert!(matches!(e, ChainError::Decode { what: "Request", .. }), "{e}");
        let garbage = decode::<Request>(&pda::config(), &[1, 2, 3], "Request").unwrap_err().to_string();
        assert!(garbage.contains("is not a valid Request"), "{garbage}");
        // A request that does not exist.
        let missing = anchor_lang::prelude::Pubkey::new_unique();
        assert!(matches!(chain.account::<Request>(&missing, "Request").await, Err(ChainError::NotFound(_))));
    });
}

/// Runs the `verity` binary against the shared network (blocking, off the runtime's workers).
async fn verity_cli(args: Vec<String>) -> (bool, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_verity"))
            .args(&args)
            .env("RUST_LOG", "error")
            .output()
            .expect("verity runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

#[test]
fn wallet_and_operator_cli_against_the_network() {
    let s = shared();
    s.rt.block_on(async {
        let dir = s.cluster.dir.display().to_string();
        // `verity request "prompt"`: submits as the localnet wallet, waits, prints the output; receipt on stderr.
        let prompt = "What color is the sky?";
        let (ok, stdout, stderr) = verity_cli(vec![
            "request".into(),
            "--localnet-dir".into(),
            dir.clone(),
            "--max-tokens".into(),
            MAX_TOKENS.to_string(),
            prompt.into(),
        ])
        .await;
        assert!(ok, "{stderr}");
        assert_eq!(stdout.trim_end_matches('\n'), expected_text(&s.engine, prompt).await);
        assert!(stderr.contains("status Finalized") && stderr.contains("agreement 3/3"), "{stderr}");
        let key = stderr.split_whitespace().skip_while(|w| *w != "request").nth(1).unwrap().trim_end_matches(';');
        // `verity request show <pubkey>`: timeline + receipt + output.
        let (ok, show, err) =
            verity_cli(vec!["request".into(), "show".into(), key.into(), "--localnet-dir".into(), dir.clone()]).await;
        assert!(ok, "{err}");
        assert!(
            show.contains("status Finalized") && show.contains("receipt") && show.contains("complete true"),
            "{show}"
        );
        // A missing account is a clear error, not a panic.
        let missing = anchor_lang::prelude::Pubkey::new_unique().to_string();
        let (ok, _, err) =
            verity_cli(vec!["request".into(), "show".into(), missing, "--localnet-dir".into(), dir.clone()]).await;
        assert!(!ok && err.contains("not found"), "{err}");
        // `verity operator status|stake` as operator 0 (its keypair and token account from localnet.json).
        let (ok, before, err) =
            verity_cli(vec!["operator".into(), "--localnet-dir".into(), dir.clone(), "status".into()]).await;
        assert!(ok && before.contains("stake 100000000 "), "{before}{err}");
        let (ok, out, err) =
            verity_cli(vec!["operator".into(), "--localnet-dir".into(), dir.clone(), "stake".into(), "5".into()]).await;
        assert!(ok, "{out}{err}");
        let (ok, after, err) =
            verity_cli(vec!["operator".into(), "--localnet-dir".into(), dir.clone(), "status".into()]).await;
        assert!(ok && after.contains("stake 100000005 "), "{after}{err}");
        // Unstaking more than staked is refused by the program with its own error.
        let (ok, _, err) =
            verity_cli(vec!["operator".into(), "--localnet-dir".into(), dir, "unstake".into(), "999999999999".into()])
                .await;
        assert!(!ok && err.contains("program error 60"), "{err}");
    });
}
