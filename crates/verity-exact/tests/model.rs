//! The exact llama model on the real SmolLM2-135M Q4_1 GGUF (fetched by `verity models fetch` into
//! `VERITY_MODELS_DIR`, default `~/.cache/verity/models`): logits are bit-identical across batch sizes, batch
//! positions, prefill at once vs token by token, thread counts and kernel paths; greedy ids are pinned.
use {
    std::sync::OnceLock,
    verity_exact::{
        llama::{self, Llama},
        math,
        matmul::Path,
    },
};

const FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
const STEPS: usize = 6;

fn bytes() -> &'static [u8] {
    static B: OnceLock<Vec<u8>> = OnceLock::new();
    B.get_or_init(|| {
        let dir = std::env::var_os("VERITY_MODELS_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/verity/models")
        });
        let p = dir.join(FILE);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}; run `verity models fetch` first", p.display()))
    })
}

fn model(path: Path) -> Llama {
    llama::load(bytes(), 256, path).expect("load")
}

/// Prompts of different lengths (token ids of the chat template's pieces and plain text ids).
fn prompts() -> Vec<Vec<u32>> {
    let base = [1u32, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 2, 198, 1, 4093, 198];
    (0..8)
        .map(|i| {
            base.iter()
                .copied()
                .chain((0..i * 3).map(|j| 260 + 37 * j + i))
                .chain([2, 198, 1, 520, 9531, 198])
                .collect()
        })
        .collect()
}

/// Every step's logit bits of greedy decoding of `prompts` together (one batch), `STEPS` steps.
fn run(m: &Llama, prompts: &[Vec<u32>], token_by_token: bool) -> Vec<Vec<Vec<u32>>> {
    let mut caches: Vec<_> = prompts.iter().map(|p| m.new_cache(p.len() + STEPS + 1).unwrap()).collect();
    let mut logits: Vec<Vec<f32>> = if token_by_token {
        let mut last = vec![Vec::new(); prompts.len()];
        let longest = prompts.iter().map(Vec::len).max().unwrap_or(0);
        for t in 0..longest {
            let live: Vec<usize> = (0..prompts.len()).filter(|&i| t < prompts[i].len()).collect();
            let toks: Vec<&[u32]> = live.iter().map(|&i| &prompts[i][t..t + 1]).collect();
            let mut cs: Vec<&mut llama::Cache> =
                caches.iter_mut().enumerate().filter(|(i, _)| live.contains(i)).map(|(_, c)| c).collect();
            for (i, l) in live.iter().zip(m.forward(&toks, &mut cs).unwrap()) {
                last[*i] = l;
            }
        }
        last
    } else {
        let toks: Vec<&[u32]> = prompts.iter().map(Vec::as_slice).collect();
        let mut cs: Vec<&mut llama::Cache> = caches.iter_mut().collect();
        m.forward(&toks, &mut cs).unwrap()
    };
    let mut steps = Vec::new();
    for _ in 0..STEPS {
        steps.push(logits.iter().map(|l| l.iter().map(|f| f.to_bits()).collect()).collect::<Vec<Vec<u32>>>());
        let next: Vec<[u32; 1]> = logits.iter().map(|l| [math::argmax_first(l).unwrap() as u32]).collect();
        let toks: Vec<&[u32]> = next.iter().map(|t| &t[..]).collect();
        let mut cs: Vec<&mut llama::Cache> = caches.iter_mut().collect();
        logits = m.forward(&toks, &mut cs).unwrap();
    }
    // steps[s][seq] → per sequence: [step][logit bits]
    (0..prompts.len()).map(|i| steps.iter().map(|s| s[i].clone()).collect()).collect()
}

#[test]
fn logits_are_bit_identical_across_batches_threads_paths_and_prefill_modes() {
    let ps = prompts();
    let best = model(Path::best());
    let alone: Vec<_> = ps.iter().map(|p| run(&best, std::slice::from_ref(p), false).remove(0)).collect();
    let mut compared = 0;
    for path in Path::ALL.into_iter().filter(|p| p.supported() && *p != Path::Reference) {
        let m = model(path);
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            for (batch, tbt) in [(3usize, false), (8, false), (3, true)] {
                // Rotate so that each prompt sits at another batch position.
                let sel: Vec<usize> = (0..batch).map(|i| (i + batch) % ps.len()).collect();
                let group: Vec<Vec<u32>> = sel.iter().map(|&i| ps[i].clone()).collect();
                let got = pool.install(|| run(&m, &group, tbt));
                for (g, &i) in got.iter().zip(&sel) {
                    assert!(
                        g == &alone[i],
                        "prompt {i}: {path:?} threads {threads} batch {batch} token-by-token {tbt}"
                    );
                    compared += 1;
                }
            }
        }
    }
    eprintln!("{compared} sequences × {STEPS} steps × 49152 logits compared bit for bit");
    assert!(compared >= 14 * 2);
}

#[test]
fn the_reference_path_gives_the_same_first_logits() {
    // The scalar reference is slow: one prompt, its prefill logits.
    let p = &prompts()[0];
    let fast = model(Path::best());
    let slow = model(Path::Reference);
    let a = fast.forward(&[p], &mut [&mut fast.new_cache(p.len()).unwrap()]).unwrap();
    let b = slow.forward(&[p], &mut [&mut slow.new_cache(p.len()).unwrap()]).unwrap();
    assert!(a[0].iter().zip(&b[0]).all(|(x, y)| x.to_bits() == y.to_bits()));
}
