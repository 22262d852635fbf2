//! The exact llama model on the real SmolLM2-135M Q4_1 GGUF (fetched by `verity models fetch` into
//! `VERITY_MODELS_DIR`, default `~/.cache/verity/models`): every step's logits are bit-identical across batch
//! sizes {1, 2, 3, 8, 16}, batch positions, joins at any step (continuous batching), prefill at once vs token by
//! token, thread counts {1, 2} and the x86 kernel paths, on 32 prompts (the slow portable path on a sample); the
//! reference path agrees; greedy ids are pinned.
use {
    std::sync::OnceLock,
    verity_exact::{
        llama::{self, Llama},
        math,
        matmul::Path,
    },
};

const FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
const STEPS: usize = 4;

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

/// 32 prompts of 16 to 78 tokens (token ids of the chat template's pieces and plain text ids).
fn prompts() -> Vec<Vec<u32>> {
    let base = [1u32, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 2, 198, 1, 4093, 198];
    (0..32)
        .map(|i| {
            base.iter()
                .copied()
                .chain((0..(i * 7) % 32 * 2).map(|j| 260 + 37 * j + i))
                .chain([2, 198, 1, 520, 9531, 198])
                .collect()
        })
        .collect()
}

/// Every step's logit bits of each sequence under continuous batching: sequence `i` joins at round `join[i]`
/// (its prompt at once, or token by token with `tbt`, in the same forward passes as the others' decode steps)
/// and leaves after `STEPS` logits (greedy). Returns per sequence `[step][logit bits]`.
fn run(m: &Llama, prompts: &[Vec<u32>], join: &[usize], tbt: bool) -> Vec<Vec<Vec<u32>>> {
    let n = prompts.len();
    let mut caches: Vec<_> = prompts.iter().map(|p| m.new_cache(p.len() + STEPS).unwrap()).collect();
    let (mut fed, mut next) = (vec![0usize; n], vec![0u32; n]);
    let mut steps: Vec<Vec<Vec<u32>>> = vec![Vec::new(); n];
    let mut round = 0;
    while steps.iter().any(|s| s.len() < STEPS) {
        let live: Vec<usize> = (0..n).filter(|&i| join[i] <= round && steps[i].len() < STEPS).collect();
        let inputs: Vec<Vec<u32>> = live
            .iter()
            .map(|&i| match (fed[i] < prompts[i].len(), tbt) {
                (true, true) => prompts[i][fed[i]..fed[i] + 1].to_vec(),
                (true, false) => prompts[i][fed[i]..].to_vec(),
                (false, _) => vec![next[i]],
            })
            .collect();
        round += 1;
        if live.is_empty() {
            continue;
        }
        let toks: Vec<&[u32]> = inputs.iter().map(Vec::as_slice).collect();
        let mut cs: Vec<&mut llama::Cache> =
            caches.iter_mut().enumerate().filter(|(i, _)| live.contains(i)).map(|(_, c)| c).collect();
        let logits = m.forward(&toks, &mut cs).unwrap();
        for ((&i, input), l) in live.iter().zip(&inputs).zip(logits) {
            if fed[i] < prompts[i].len() {
                fed[i] += input.len();
                if fed[i] < prompts[i].len() {
                    continue;
                }
            }
            steps[i].push(l.iter().map(|f| f.to_bits()).collect());
            next[i] = math::argmax_first(&l).unwrap() as u32;
        }
    }
    steps
}

#[test]
fn logits_are_bit_identical_across_batches_threads_paths_and_joins() {
    let ps = prompts();
    let best = model(Path::best());
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let alone: Vec<_> =
        one.install(|| ps.iter().map(|p| run(&best, std::slice::from_ref(p), &[0], false).remove(0)).collect());
    let t = std::time::Instant::now();
    let (mut compared, mut configs) = (0, 0);
    for path in Path::ALL.into_iter().filter(|p| p.supported() && *p != Path::Reference) {
        let (m, tp) = (model(path), std::time::Instant::now());
        // The portable path (what a CPU without AVX2 runs) is ~10× slower than the x86 ones: a sample of it.
        let (n, batches): (usize, &[usize]) = match path {
            Path::Portable => (6, &[1, 2, 6]),
            _ => (ps.len(), &[1, 2, 3, 8, 16]),
        };
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            for &batch in batches {
                // The first `n` prompts, in groups of `batch`, rotated so that each sits at another batch
                // position; the odd groups join staggered (one sequence per round) and the third token by token.
                let order: Vec<usize> = (0..n).map(|i| (i + 5 * batch) % n).collect();
                for (gi, sel) in order.chunks(batch).enumerate() {
                    let group: Vec<Vec<u32>> = sel.iter().map(|&i| ps[i].clone()).collect();
                    let join: Vec<usize> = (0..sel.len()).map(|k| if gi % 2 == 1 { k } else { 0 }).collect();
                    let tbt = gi == 2;
                    let got = pool.install(|| run(&m, &group, &join, tbt));
                    for (g, &i) in got.iter().zip(sel) {
                        assert!(
                            g == &alone[i],
                            "prompt {i}: {path:?} threads {threads} batch {batch} joins {join:?} token-by-token {tbt}"
                        );
                        compared += 1;
                    }
                }
                configs += 1;
            }
        }
        eprintln!("{path:?}: {:.0} s", tp.elapsed().as_secs_f64());
    }
    eprintln!(
        "{compared} sequence runs ({configs} path/thread/batch configurations) × {STEPS} steps × 49152 logits \
         compared bit for bit in {:.0} s",
        t.elapsed().as_secs_f64()
    );
    assert!(compared >= 32 * 5 * 2);
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

#[test]
fn greedy_ids_are_pinned() {
    let m = model(Path::best());
    let ps = prompts();
    let ids: Vec<Vec<u32>> = [0usize, 13, 31]
        .iter()
        .map(|&i| {
            let mut c = m.new_cache(ps[i].len() + 12).unwrap();
            let mut l = m.forward(&[&ps[i]], &mut [&mut c]).unwrap().remove(0);
            (0..12)
                .map(|_| {
                    let t = math::argmax_first(&l).unwrap() as u32;
                    l = m.forward(&[&[t]], &mut [&mut c]).unwrap().remove(0);
                    t
                })
                .collect()
        })
        .collect();
    eprintln!("greedy ids: {ids:?}");
    assert_eq!(ids, PINNED_IDS);
}

/// Greedy ids of prompts 0, 13 and 31 (12 steps), recorded from this crate on 2026-12-03 (a regression pin: any
/// change to the numerics that moves a logit enough to flip an argmax shows here, and needs a new SPEC_VERSION).
const PINNED_IDS: [[u32; 12]; 3] = [
    [57, 5248, 1535, 288, 724, 346, 351, 750, 4833, 2385, 1391, 346],
    [504, 1694, 314, 253, 25755, 282, 253, 5862, 1681, 563, 260, 1645],
    [504, 2909, 314, 42, 198, 198, 3725, 198, 19, 21745, 2067, 89],
];
