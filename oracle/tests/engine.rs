//! Engine behaviour on the real SmolLM2 model: golden tokens, determinism, concurrency and batching
//! invariance, for the exact (default), f32 and q4_1 profiles.

mod common;

use std::sync::OnceLock;
use verity_exact::sample::Sampling;
use verity_oracle::inference::{output_hash, DeviceSpec, Dtype, Engine, Finish, Request};

/// First 32 greedy tokens of `GOLDEN_PROMPT` under the f32 profile, computed once by this engine
/// and checked to decode to sane text (see `golden_f32_first_32_tokens`).
const GOLDEN_PROMPT: &str = "Write a short story about a robot.";
const GOLDEN: [u32; 32] = [
    788, 260, 713, 216, 34, 34, 33, 37, 28, 253, 12978, 284, 45420, 8085, 3365, 659, 2668, 254, 761, 719, 24724, 351,
    253, 4527, 288, 2217, 260, 1205, 1633, 8085, 9892, 30,
];
const GOLDEN_TEXT: &str = "In the year 2215, a brilliant and resourceful robot named Kylin had been tasked with a mission to explore the humanoid robot colonies.";
/// Profile hash of SmolLM2-135M-Instruct Q4_1 GGUF under the f32 profile (see PROFILE.md).
pub const F32_PROFILE: &str = "ac22b70ff5fb5181e32ea68f9389e9a4ea6a4fd210726d1e33319a2b391341c6";

/// First 32 greedy tokens of `GOLDEN_PROMPT` under the exact profile (oracle/NUMERICS.md), and its hash.
const EXACT_GOLDEN: [u32; 32] = [
    788, 260, 713, 216, 34, 34, 33, 37, 28, 253, 12978, 284, 45420, 8085, 3365, 659, 2668, 254, 761, 719, 24724, 351,
    253, 4527, 288, 2217, 260, 16862, 282, 260, 1205, 1945,
];
const EXACT_GOLDEN_TEXT: &str = "In the year 2215, a brilliant and resourceful robot named Kylin had been tasked with a mission to explore the depths of the human mind";
pub const EXACT_PROFILE: &str = "22a088bd52ab148fdda62135859e38c0186a2d025c2162f7fe4db8c3d9d590b1";

const PROMPTS: [&str; 4] = [
    "What is the capital of France?",
    "List three prime numbers greater than 10.",
    "Why is the sky blue?",
    "Write one sentence about a cat that likes rain.",
];

fn shared_f32() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::start(common::load_model(Dtype::F32), 8))
}

fn req(p: &str, n: u32) -> Request {
    Request::greedy(p.as_bytes(), n)
}

#[test]
fn golden_f32_first_32_tokens() {
    let e = shared_f32();
    assert_eq!(hex::encode(e.profile_hash()), F32_PROFILE);
    let g = e.generate_blocking(req(GOLDEN_PROMPT, 32)).unwrap();
    assert_eq!(g.token_ids, GOLDEN);
    assert_eq!(g.text, GOLDEN_TEXT);
    assert_eq!(g.finish, Finish::MaxTokens);
    assert_eq!(g.output_hash, output_hash(&e.profile_hash(), &g.text));
    assert!(g.prompt_tokens > 30 && g.prompt_tokens < 50, "prompt tokens {}", g.prompt_tokens);
}

fn shared_exact() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::start(common::load_model(Dtype::Exact), 8))
}

#[test]
fn golden_exact_first_32_tokens() {
    let e = shared_exact();
    assert_eq!(hex::encode(e.profile_hash()), EXACT_PROFILE);
    assert_eq!(e.profile().engine_version, verity_exact::SPEC_VERSION);
    let g = e.generate_blocking(req(GOLDEN_PROMPT, 32)).unwrap();
    eprintln!("exact golden: {:?} {:?}", g.token_ids, g.text);
    assert_eq!(g.token_ids, EXACT_GOLDEN);
    assert_eq!(g.text, EXACT_GOLDEN_TEXT);
    assert_eq!(g.output_hash, output_hash(&e.profile_hash(), &g.text));
}

#[test]
fn exact_batching_invariance() {
    batching_invariance(Dtype::Exact, 12, 4);
}

#[test]
fn stop_token_ends_generation_and_is_not_in_the_output() {
    let g = shared_exact().generate_blocking(req("What is 2+2?", 64)).unwrap();
    assert_eq!(g.finish, Finish::Stop);
    assert_eq!(g.text, "The answer to this classic math problem is 4.");
    assert!(!g.token_ids.contains(&2) && !g.token_ids.contains(&0));
    assert!(g.token_ids.len() < 64);
}

#[test]
fn exact_repeat_runs_are_identical() {
    let e = shared_exact();
    let a = e.generate_blocking(req(PROMPTS[1], 16)).unwrap();
    let b = e.generate_blocking(req(PROMPTS[1], 16)).unwrap();
    assert_eq!(a.token_ids, b.token_ids);
    assert_eq!(a.output_hash, b.output_hash);
    assert_eq!(a.token_ids.len(), 16);
}

/// Continuous batching: a request that arrives while another is decoding joins it (its prompt prefilled in the
/// same forward passes as the running sequence's next tokens); both get the tokens they get alone.
#[test]
fn exact_request_joining_a_running_one_gets_its_alone_tokens() {
    let (long, short) = (req(GOLDEN_PROMPT, 40), req(PROMPTS[3], 12));
    let alone_engine = Engine::start(common::load_model(Dtype::Exact), 1);
    let alone_long = alone_engine.generate_blocking(long.clone()).unwrap();
    let alone_short = alone_engine.generate_blocking(short.clone()).unwrap();
    let e = shared_exact().clone();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (a, b) = rt.block_on(async {
        let first = tokio::spawn({
            let e = e.clone();
            async move { e.generate(long).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let second = e.generate(short).await;
        (first.await.unwrap().unwrap(), second.unwrap())
    });
    assert!(b.max_batch_seen > 1, "the second request did not join the running one");
    assert_eq!(a.token_ids, alone_long.token_ids);
    assert_eq!(b.token_ids, alone_short.token_ids);
    assert_eq!((a.output_hash, b.output_hash), (alone_long.output_hash, alone_short.output_hash));
}

/// The exact profile on the emulated GPU (the CUDA kernels' source run on the CPU, src/gpu of verity-exact): the
/// CPU engine's profile hash, and for a greedy and a sampled request served together, the CPU engine's tokens and
/// output hashes.
#[test]
fn exact_on_the_emulated_gpu_serves_the_cpu_engines_answers() {
    let gpu = Engine::start(common::load_model_on(Dtype::Exact, DeviceSpec::Emulator), 4);
    let cpu = shared_exact();
    assert_eq!(gpu.profile_hash(), cpu.profile_hash());
    let sampled = Request {
        sampling: Sampling { temperature_milli: 900, top_p_milli: 950, seed: 7 },
        stream: 42,
        ..req(PROMPTS[2], 6)
    };
    // Over 256 tokens: more rows than the emulator's step budget, so the prefill runs in chunks (same bits).
    let long = PROMPTS.iter().cycle().take(40).copied().collect::<Vec<_>>().join(" ");
    let reqs = [req(PROMPTS[0], 6), sampled, req(&long, 2)];
    let pending: Vec<_> = reqs.iter().map(|r| gpu.submit(r.clone())).collect();
    for (r, rx) in reqs.iter().zip(pending) {
        let got = rx.blocking_recv().expect("engine alive").expect("generation");
        let want = cpu.generate_blocking(r.clone()).unwrap();
        assert_eq!((got.token_ids, got.output_hash), (want.token_ids, want.output_hash), "{:?}", r.prompt);
        if r.max_tokens == 2 {
            assert!(
                got.prompt_tokens > 256,
                "the long prompt is {} tokens: not past the step budget",
                got.prompt_tokens
            );
        }
    }
}

/// Each prompt alone on a one-sequence engine vs all prompts submitted concurrently (async API) to a
/// batching engine: identical tokens and hashes.
fn batching_invariance(dtype: Dtype, max_tokens: u32, n_prompts: usize) {
    let alone_engine = Engine::start(common::load_model(dtype), 1);
    let alone: Vec<_> =
        PROMPTS[..n_prompts].iter().map(|p| alone_engine.generate_blocking(req(p, max_tokens)).unwrap()).collect();
    assert!(alone.iter().all(|g| g.max_batch_seen == 1));
    let batched_engine = Engine::start(common::load_model(dtype), 8);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let together = rt.block_on(async {
        let futs: Vec<_> = PROMPTS[..n_prompts]
            .iter()
            .map(|p| {
                let e = batched_engine.clone();
                let r = req(p, max_tokens);
                tokio::spawn(async move { e.generate(r).await })
            })
            .collect();
        let mut out = Vec::new();
        for f in futs {
            out.push(f.await.unwrap().unwrap());
        }
        out
    });
    assert!(together.iter().any(|g| g.max_batch_seen > 1), "requests were not served concurrently");
    for (a, b) in alone.iter().zip(&together) {
        assert_eq!(a.token_ids, b.token_ids, "{dtype}: batched output differs for {:?}", a.text);
        assert_eq!(a.output_hash, b.output_hash);
    }
}

#[test]
fn f32_batching_invariance() {
    batching_invariance(Dtype::F32, 12, 4);
}

#[test]
fn q4_1_stable_and_batching_invariant() {
    // q4_1 uses candle's scalar Q4_1 CPU kernel (slow here): few tokens.
    batching_invariance(Dtype::Q4_1, 5, 2);
}

/// Stronger than equal tokens: one fused decode step over 3 sequences gives each the exact logits bits
/// of a step alone (the promise of the exact profile and of the CPU f32 kernel).
fn fused_decode_logits_are_bit_identical_to_single(dtype: Dtype) {
    let m = common::load_model(dtype);
    assert!(m.model.batch_invariant_decode());
    let prefilled = || -> Vec<_> {
        PROMPTS[..3]
            .iter()
            .map(|p| {
                let ids = m.template.encode(&m.tokenizer, p).unwrap();
                let mut c = m.model.new_cache(256).unwrap();
                m.model.prefill(&ids, &mut c).unwrap();
                c
            })
            .collect()
    };
    let mut caches = prefilled();
    let toks = [260u32, 1837, 30];
    // Same prompts prefilled into fresh caches, each decoded alone.
    let mut singles = Vec::new();
    for (c, t) in prefilled().iter_mut().zip(toks) {
        singles.push(m.model.decode(&[t], &mut [c]).unwrap().remove(0));
    }
    let mut refs: Vec<_> = caches.iter_mut().collect();
    let fused = m.model.decode(&toks, &mut refs).unwrap();
    for (i, (a, b)) in singles.iter().zip(&fused).enumerate() {
        let same = a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
        assert!(same, "{dtype} sequence {i}: fused logits differ from single-sequence logits");
    }
}

#[test]
fn exact_fused_decode_logits_are_bit_identical_to_single() {
    fused_decode_logits_are_bit_identical_to_single(Dtype::Exact);
}

#[test]
fn f32_fused_decode_logits_are_bit_identical_to_single() {
    fused_decode_logits_are_bit_identical_to_single(Dtype::F32);
}

#[test]
fn q4_1_profile_hash_differs_from_f32() {
    let q = common::load_model(Dtype::Q4_1);
    assert_ne!(hex::encode(q.profile_hash), F32_PROFILE);
    assert_ne!(hex::encode(q.profile_hash), EXACT_PROFILE);
    assert_eq!(q.profile.dtype, Dtype::Q4_1);
    assert!(q.check_profile(F32_PROFILE).is_err());
}
