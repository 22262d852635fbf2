//! The GPU code path (src/gpu: kernels.cu and the host side that drives it) run on the CPU emulator, against the
//! CPU engine on the real SmolLM2-135M Q4_1 and Qwen2.5-Coder-0.5B Q4_K_M models: every step's logits are the same
//! bits, alone and under continuous batching (sequences joining while others decode), and the device's greedy
//! argmax picks the CPU's first maximum. Bad input gets the model's own errors. (On a GPU, scripts/gpu-check.sh
//! compares CUDA with the CPU the same way.)
mod common;

use verity_exact::{
    gpu::{decode, Emulator, GpuError, GpuLlama, Kernel, Readback},
    llama::{self, Llama, ModelError},
    matmul::Path,
};

fn load(file: &str) -> Llama {
    llama::load(&common::read_model(file), 256, Path::best()).expect("load")
}

/// Prompts of 17 to 32 tokens (chat-template pieces and plain ids of SmolLM2's vocabulary).
fn smol_prompts(n: usize) -> Vec<Vec<u32>> {
    let base = [1u32, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 2, 198, 1, 4093, 198];
    (0..n as u32)
        .map(|i| base.iter().copied().chain((0..(i * 5) % 16).map(|j| 260 + 37 * j + i)).chain([2, 198]).collect())
        .collect()
}

/// Runs `prompts` on the emulated GPU, `batch` at a time, and checks every step's logits against the CPU
/// engine's run of each prompt alone. Returns the steps compared.
fn check(m: &Llama, prompts: &[Vec<u32>], batch: usize, steps: usize) -> usize {
    let cpu: Vec<_> =
        prompts.iter().map(|p| common::run(m, std::slice::from_ref(p), &[0], false, steps).remove(0)).collect();
    let mut g = GpuLlama::new(m, Emulator::new(), batch, 256, 256).expect("upload");
    let mut compared = 0;
    let toks = decode(&mut g, prompts, batch, steps, Readback::Logits, |i, step, l| {
        let bits: Vec<u32> = l.iter().map(|f| f.to_bits()).collect();
        assert!(bits == cpu[i][step], "prompt {i} step {step}: GPU logits differ from the CPU's (batch {batch})");
        compared += 1;
    })
    .expect("decode");
    // The device's own argmax (the speed path) gives the same tokens.
    let mut g = GpuLlama::new(m, Emulator::new(), batch, 256, 256).expect("upload");
    let fast = decode(&mut g, prompts, batch, steps, Readback::Tokens, |_, _, _| {}).expect("decode");
    assert_eq!(fast, toks, "device argmax vs first maximum of the logits");
    compared
}

#[test]
fn the_kernel_table_matches_the_emulator() {
    let names: Vec<&str> = Kernel::ALL.iter().map(|k| k.name()).collect();
    assert_eq!(Emulator::kernel_names(), names);
    assert!(Kernel::ALL.iter().enumerate().all(|(i, &k)| k as usize == i), "a kernel's index is its discriminant");
}

#[test]
fn smollm2_on_the_emulated_gpu_equals_the_cpu_bit_for_bit() {
    let m = load("SmolLM2-135M-Instruct.Q4_1.gguf");
    let mut ps = smol_prompts(6);
    // A prompt past 128 positions (attention over more than one block of positions).
    ps.push((0..140).map(|j| 260 + 53 * j).collect());
    // Alone, then three at a time: the fourth prompt joins while the others decode.
    assert_eq!(check(&m, &ps[..2], 1, 3), 6);
    assert_eq!(check(&m, &ps, 3, 3), 21);
}

#[test]
fn qwen_on_the_emulated_gpu_equals_the_cpu_bit_for_bit() {
    // Q5_0 / Q8_0 (one weight form), Q4_K, Q6_K, biases, NEOX RoPE, GQA.
    let m = load("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf");
    let ps: Vec<Vec<u32>> = vec![
        vec![151644, 872, 198, 7985, 264, 13027, 729, 151645, 198, 151644, 77091, 198],
        vec![151644, 8948, 198, 2610, 525, 1207, 16948, 11, 3465, 553, 54364, 14817, 13, 151645, 198],
    ];
    assert_eq!(check(&m, &ps, 2, 2), 4);
}

#[test]
fn bad_input_gets_clear_errors() {
    let m = load("SmolLM2-135M-Instruct.Q4_1.gguf");
    let mut g = GpuLlama::new(&m, Emulator::new(), 2, 4, 6).expect("upload");
    assert!(matches!(
        GpuLlama::new(&m, Emulator::new(), 1, 100_000, 4),
        Err(GpuError::Model(ModelError::CacheFull(256)))
    ));
    let a = g.open().unwrap();
    let b = g.open().unwrap();
    assert!(g.open().is_none(), "two slots");
    assert!(matches!(g.forward(&[(a, &[49_152])]), Err(GpuError::Model(ModelError::Token(49_152)))));
    assert!(matches!(g.forward(&[(a, &[1; 5])]), Err(GpuError::Model(ModelError::CacheFull(4)))));
    assert!(matches!(g.forward(&[(a, &[1; 4]), (b, &[1; 3])]), Err(GpuError::Rows { rows: 7, max: 6 })));
    assert!(matches!(g.forward(&[(a, &[1]), (a, &[2])]), Err(GpuError::Slot(_))));
    assert!(matches!(g.forward(&[(a, &[])]), Err(GpuError::EmptySequence)));
    // Nothing above was cached; a good step still runs, and a closed slot is refused.
    assert_eq!(g.len(a), Some(0));
    assert_eq!(g.forward(&[(a, &[1, 2])]).unwrap()[0].len(), 49_152);
    assert_eq!(g.len(a), Some(2));
    g.close(b);
    assert!(matches!(g.forward(&[(b, &[1])]), Err(GpuError::Slot(_))));
}
