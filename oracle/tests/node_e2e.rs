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
        Sampling, SubmitRequestArgs, VerityError,
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
            let mut c = cluster("node-e2e", 3, 60, engine.profiles()[0]).await;
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
        let big = "x".repeat(8_193);
        let e = wallet::submit(&chain, &w, &ask(&s.cluster, &big)).await.unwrap_err().to_string();
        assert!(e.contains("accepts at most 8192"), "{e}");
        // …and an inline one over the 640-byte cap by the program with its own code when sent anyway (the wallet
        // would have put it into a Prompt account).
        let args = SubmitRequestArgs {
            nonce: 999_001,
            prompt: "x".repeat(700).into_bytes(),
            prompt_hash: None,
            prompt_uri: String::new(),
            max_tokens: MAX_TOKENS,
            fee: 1_000_000,
            output_capacity: 64,
            callback_program: None,
            sampling: Sampling::GREEDY,
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
        // Its work counters: this test's request finalized 3/3, so operator 0 was credited the receipt's tokens.
        let served = before.split("\n  served ").nth(1).and_then(|t| t.split_whitespace().next()?.parse::<u64>().ok());
        assert!(served.is_some_and(|t| t > 0) && before.contains(" FLOPs (majority rounds)"), "{before}");
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

#[test]
fn sampled_request_finalizes_with_the_seeded_output_of_its_own_stream() {
    let s = shared();
    s.rt.block_on(async {
        let chain = s.cluster.client().unwrap();
        let w = wallet(&s.cluster);
        let sampling = Sampling { temperature_milli: 900, top_p_milli: 950, seed: 424_242 };
        let prompt = "Write a story about a dragon who learns to cook.";
        let mut a = ask(&s.cluster, prompt);
        a.sampling = sampling;
        let key = wallet::submit(&chain, &w, &a).await.unwrap();
        let r = wallet::wait_final(&chain, &key, Duration::from_secs(240)).await.unwrap();
        assert_eq!(r.status, RequestStatus::Finalized, "{}", wallet::describe(&key, &r, None));
        assert_eq!(r.sampling, sampling, "the request keeps the submitted sampling");
        assert_eq!(r.receipt.agreement_count, 3, "every honest node drew the same tokens");
        let text = wallet::wait_output(&chain, &key, Duration::from_secs(60)).await.unwrap();
        // What the engine draws for this request's own stream (the first 8 bytes of its address)…
        let want = s.engine.infer(r.profile_hash, verity_oracle::node::inference_request(&key, &r, r.prompt.clone()));
        assert_eq!(text, want.await.unwrap().text, "on-chain output = the engine's sampled output for this request");
        assert_eq!(r.winning_hash, verity::logic::output_hash(&r.profile_hash, text.as_bytes()));
        // …and out of range parameters are refused by the program with its own error.
        let mut bad = submit_args_like(&a);
        bad.sampling.temperature_milli = 2_001;
        let err = chain.send("submit", &[ix::submit(&w.pubkey(), &a.model, bad)], &w).await;
        assert!(matches!(&err, Err(e) if e.is(VerityError::InvalidSampling)), "{err:?}");
        let mut bad = submit_args_like(&a);
        bad.sampling.top_p_milli = 0;
        let err = chain.send("submit", &[ix::submit(&w.pubkey(), &a.model, bad)], &w).await;
        assert!(matches!(&err, Err(e) if e.is(VerityError::InvalidSampling)), "{err:?}");
        // The wallet refuses them before sending, with a clear message.
        let mut a2 = a.clone();
        a2.sampling.top_p_milli = 1_001;
        let e = wallet::submit(&chain, &w, &a2).await.unwrap_err().to_string();
        assert!(e.contains("sampling out of range"), "{e}");
    });
}

/// Raw program args of `a` (fresh nonce), to send what the wallet would refuse.
fn submit_args_like(a: &wallet::Ask) -> SubmitRequestArgs {
    SubmitRequestArgs {
        nonce: rand_nonce(),
        prompt: a.prompt.clone(),
        prompt_hash: None,
        prompt_uri: String::new(),
        max_tokens: a.max_tokens,
        fee: 1_000_000,
        output_capacity: a.output_capacity,
        callback_program: None,
        sampling: a.sampling,
    }
}

fn rand_nonce() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(7)
}

#[test]
fn cli_sampled_request_prints_the_seeded_output() {
    let s = shared();
    s.rt.block_on(async {
        let dir = s.cluster.dir.display().to_string();
        let prompt = "Tell me a story about a robot.";
        let args = ["--temperature", "0.8", "--top-p", "0.9", "--seed", "5", "--max-tokens", "8"];
        let mut cmd: Vec<String> = vec!["request".into(), "--localnet-dir".into(), dir];
        cmd.extend(args.iter().map(|a| a.to_string()));
        cmd.push(prompt.into());
        let (ok, stdout, stderr) = verity_cli(cmd).await;
        assert!(ok, "{stderr}");
        assert!(stderr.contains("sampling  temperature 0.800, top-p 0.900, seed 5"), "{stderr}");
        let key: anchor_lang::prelude::Pubkey = stderr
            .split_whitespace()
            .skip_while(|w| *w != "request")
            .nth(1)
            .unwrap()
            .trim_end_matches(';')
            .parse()
            .unwrap();
        let chain = s.cluster.client().unwrap();
        let r: Request = chain.account(&key, "Request").await.unwrap();
        assert_eq!(r.sampling, Sampling { temperature_milli: 800, top_p_milli: 900, seed: 5 });
        let want = s
            .engine
            .infer(r.profile_hash, verity_oracle::node::inference_request(&key, &r, r.prompt.clone()))
            .await
            .unwrap();
        assert_eq!(stdout.trim_end_matches('\n'), want.text);
        // `verity infer --request KEY` reproduces it offline, from the same seed and the request's stream.
        let mut infer: Vec<String> = vec!["infer".into(), "--json".into(), "--request".into(), key.to_string()];
        infer.extend(args.iter().map(|a| a.to_string()));
        infer.push(prompt.into());
        let (ok, json, err) = verity_cli(infer).await;
        assert!(ok, "{err}");
        assert!(json.contains(&serde_json::to_string(&want.text).unwrap()), "{json} vs {:?}", want.text);
        // Out-of-range flags are refused with a clear message before anything is sent.
        let (ok, _, err) = verity_cli(vec![
            "request".into(),
            "--localnet-dir".into(),
            s.cluster.dir.display().to_string(),
            "--temperature".into(),
            "3".into(),
            "hi".into(),
        ])
        .await;
        assert!(!ok && err.contains("--temperature must be in 0..=2"), "{err}");
    });
}
