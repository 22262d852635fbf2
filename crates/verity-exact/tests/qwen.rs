//! The exact model on the real Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF (qwen2: q/k/v biases, NEOX RoPE, GQA 14/2;
//! Q5_0, Q8_0, Q4_K and Q6_K tensors; fetched by `verity models fetch qwen2.5-coder-0.5b`): greedy ids on a code
//! prompt equal llama.cpp's on the same file; every step's logits are bit-identical across kernel paths, threads
//! {1, 2}, batch sizes, joins and token-by-token prefill (fewer prompts than the SmolLM2 test: CI time); the
//! scalar reference agrees.
mod common;

use {
    std::sync::OnceLock,
    verity_exact::{
        llama::{self, Arch, Llama},
        matmul::Path,
    },
};

const FILE: &str = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf";

fn bytes() -> &'static [u8] {
    static B: OnceLock<Vec<u8>> = OnceLock::new();
    B.get_or_init(|| common::read_model(FILE))
}

fn model(path: Path) -> Llama {
    llama::load(bytes(), 256, path).expect("load")
}

/// ChatML around the user text: `<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful
/// assistant.<|im_end|>\n<|im_start|>user\n` … `<|im_end|>\n<|im_start|>assistant\n` (Qwen's token ids).
const PREFIX: [u32; 24] = [
    151644, 8948, 198, 2610, 525, 1207, 16948, 11, 3465, 553, 54364, 14817, 13, 1446, 525, 264, 10950, 17847, 13,
    151645, 198, 151644, 872, 198,
];
const SUFFIX: [u32; 5] = [151645, 198, 151644, 77091, 198];

/// "Write a Python function that returns the square of a number." (ids of Qwen's tokenizer).
const CODE_PROMPT: [u32; 12] = [7985, 264, 13027, 729, 429, 4675, 279, 9334, 315, 264, 1372, 13];

/// llama.cpp's greedy ids for the templated [`CODE_PROMPT`] on the same file (xllamacpp 2026.10.11549,
/// temperature 0, top_k 1): "Here's a simple Python function to calculate the square of a number:\n\n```python\n
/// def square(number):\n    \"\"\"\n   ".
const LLAMA_CPP_IDS: [u32; 24] = [
    8420, 594, 264, 4285, 13027, 729, 311, 11047, 279, 9334, 315, 264, 1372, 1447, 73594, 12669, 198, 750, 9334, 17918,
    982, 262, 3190, 262,
];

fn templated(text: &[u32]) -> Vec<u32> {
    PREFIX.iter().chain(text).chain(&SUFFIX).copied().collect()
}

#[test]
fn greedy_ids_on_a_code_prompt_equal_llama_cpps() {
    let m = model(Path::best());
    assert_eq!((m.cfg.arch, m.cfg.n_head, m.cfg.n_kv_head, m.cfg.vocab), (Arch::Qwen2, 14, 2, 151936));
    assert_eq!(common::greedy(&m, &templated(&CODE_PROMPT), 24), LLAMA_CPP_IDS);
}

#[test]
fn logits_are_bit_identical_across_batches_threads_paths_and_joins() {
    // Eight prompts of 30 to 64 tokens: the template around the code prompt's ids and plain-text ids.
    let ps: Vec<Vec<u32>> = (0..8u32)
        .map(|i| {
            templated(&CODE_PROMPT.iter().copied().chain((0..i * 5).map(|j| 300 + 41 * j + i)).collect::<Vec<_>>())
        })
        .collect();
    let sweep = common::Sweep { fast: (6, &[1, 2, 6]), portable: (1, &[1]), steps: 3 };
    assert!(common::sweep(model, &ps, sweep) >= 6 * 3 * 2 * 2);
}

#[test]
fn the_reference_path_gives_the_same_logits() {
    // The scalar reference is slow: a short prompt's prefill and one decode step.
    let p = [151644u32, 872, 198, 7985, 264, 13027];
    let (fast, slow) = (model(Path::best()), model(Path::Reference));
    let run = |m: &Llama| common::run(m, &[p.to_vec()], &[0], false, 2).remove(0);
    assert!(run(&fast) == run(&slow));
}
