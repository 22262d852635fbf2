//! Seeded sampling through the node's engine on the real SmolLM2 model (exact profile, oracle/NUMERICS.md §7):
//! the same (seed, request stream) gives the same tokens at any batch size and thread count; other seeds and
//! other streams give other outputs on an open-ended prompt; temperature 0 is the greedy output; bad parameters
//! are refused before any work. The Qwen model repeats the seed check when it is fetched.

mod common;

use verity_exact::sample::Sampling;
use verity_oracle::inference::{Dtype, Engine, EngineError, Generation, Request};

const OPEN: &str = "Write a story about a dragon who learns to cook.";
const MAX: u32 = 24;

fn sampled(prompt: &str, seed: u64, stream: u64) -> Request {
    Request {
        prompt: prompt.as_bytes().to_vec(),
        max_tokens: MAX,
        sampling: Sampling { temperature_milli: 900, top_p_milli: 950, seed },
        stream,
    }
}

/// All of `reqs` submitted at once (they share the engine's batches), in order.
fn all(e: &Engine, reqs: &[Request]) -> Vec<Generation> {
    let rxs: Vec<_> = reqs.iter().map(|r| e.submit(r.clone())).collect();
    rxs.into_iter().map(|rx| rx.blocking_recv().unwrap().unwrap()).collect()
}

#[test]
fn same_seed_same_tokens_across_batch_sizes_and_threads_other_seeds_differ() {
    let reqs: Vec<Request> = (0..6).map(|i| sampled(OPEN, 1000 + i, 77)).collect();
    let alone = Engine::start_with_threads(common::load_model(Dtype::Exact), 1, 1);
    let want: Vec<Vec<u32>> = reqs.iter().map(|r| alone.generate_blocking(r.clone()).unwrap().token_ids).collect();
    let batched = Engine::start_with_threads(common::load_model(Dtype::Exact), 8, 2);
    let got = all(&batched, &reqs);
    assert!(got.iter().any(|g| g.max_batch_seen > 1), "the requests never shared a batch");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(&g.token_ids, w, "a sampled request's tokens depend on its batch or thread count");
    }
    // Mixed with greedy requests of other prompts, joining at different steps: still the same.
    let mut mixed: Vec<Request> = vec![Request::greedy("What is 2+2?", 30), reqs[2].clone()];
    mixed.push(Request::greedy("Name a color.", 5));
    let got = all(&batched, &mixed);
    assert_eq!(got[1].token_ids, want[2]);
    // Six seeds on an open-ended prompt: not all the same text.
    let distinct: std::collections::BTreeSet<&Vec<u32>> = want.iter().collect();
    assert!(distinct.len() >= 3, "6 seeds gave only {} distinct outputs", distinct.len());
    // The request stream is part of the key: another request with the same seed draws other tokens.
    let other_stream = alone.generate_blocking(sampled(OPEN, 1000, 78)).unwrap().token_ids;
    assert_ne!(other_stream, want[0], "the stream did not change the draw");
    // And it is reproducible.
    assert_eq!(alone.generate_blocking(reqs[0].clone()).unwrap().token_ids, want[0]);
}

#[test]
fn temperature_zero_is_greedy_and_top_p_one_thousandth_is_greedy() {
    let e = Engine::start(common::load_model(Dtype::Exact), 4);
    let greedy = e.generate_blocking(Request::greedy(OPEN, MAX)).unwrap();
    let t0 = Request { sampling: Sampling { temperature_milli: 0, top_p_milli: 300, seed: 99 }, ..sampled(OPEN, 0, 5) };
    assert_eq!(e.generate_blocking(t0).unwrap().token_ids, greedy.token_ids);
    // A nucleus of mass 0.001 holds only the most likely token (the first maximum): greedy again.
    let tiny =
        Request { sampling: Sampling { temperature_milli: 1000, top_p_milli: 1, seed: 3 }, ..sampled(OPEN, 0, 5) };
    assert_eq!(e.generate_blocking(tiny).unwrap().token_ids, greedy.token_ids);
    // A hot sample is not the greedy text (pinned seed and stream: deterministic).
    let hot =
        Request { sampling: Sampling { temperature_milli: 1500, top_p_milli: 1000, seed: 3 }, ..sampled(OPEN, 0, 5) };
    assert_ne!(e.generate_blocking(hot).unwrap().token_ids, greedy.token_ids);
}

#[test]
fn invalid_sampling_is_refused_before_any_work() {
    let e = Engine::start(common::load_model(Dtype::Exact), 2);
    for s in [
        Sampling { temperature_milli: 2001, top_p_milli: 1000, seed: 0 },
        Sampling { temperature_milli: 700, top_p_milli: 0, seed: 0 },
        Sampling { temperature_milli: 700, top_p_milli: 1001, seed: 0 },
    ] {
        let r = Request { sampling: s, ..sampled(OPEN, 0, 0) };
        assert!(matches!(e.generate_blocking(r), Err(EngineError::Sampling(_))), "{s:?} accepted");
    }
    // The engine still serves afterwards.
    assert!(e.generate_blocking(Request::greedy("Hi", 2)).is_ok());
}

#[test]
fn qwen_sampled_output_is_reproducible_across_batching() {
    let Some(path) = common::qwen05_path() else { return };
    let spec = &verity_oracle::inference::registry::QWEN25_CODER_05B;
    let load = || {
        verity_oracle::inference::load(spec, &path, Dtype::Exact, verity_oracle::inference::DeviceSpec::Cpu).unwrap()
    };
    let reqs: Vec<Request> = (0..3).map(|i| sampled("Write a haiku about Rust.", 40 + i, 9)).collect();
    let batched = all(&Engine::start_with_threads(load(), 4, 2), &reqs);
    let alone = Engine::start_with_threads(load(), 1, 1);
    for (g, r) in batched.iter().zip(&reqs) {
        assert_eq!(g.token_ids, alone.generate_blocking(r.clone()).unwrap().token_ids);
    }
    let distinct: std::collections::BTreeSet<&Vec<u32>> = batched.iter().map(|g| &g.token_ids).collect();
    assert!(distinct.len() >= 2, "3 seeds gave one output");
}
