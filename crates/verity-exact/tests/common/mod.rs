//! Shared by the real-model tests: the GGUF from the models dir, continuous-batching runs that record every
//! step's logit bits, the sweep over kernel paths × threads × batch sizes × joins, and greedy decoding.
#![allow(dead_code)]
use verity_exact::{
    llama::{self, Llama},
    math,
    matmul::Path,
};

/// The bytes of `file` in `VERITY_MODELS_DIR` (default `~/.cache/verity/models`).
pub fn read_model(file: &str) -> Vec<u8> {
    let dir = std::env::var_os("VERITY_MODELS_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| {
        std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/verity/models")
    });
    let p = dir.join(file);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}; run `verity models fetch --all` first", p.display()))
}

/// Every step's logit bits of each sequence under continuous batching: sequence `i` joins at round `join[i]`
/// (its prompt at once, or token by token with `tbt`, in the same forward passes as the others' decode steps)
/// and leaves after `steps` logits (greedy). Returns per sequence `[step][logit bits]`.
pub fn run(m: &Llama, prompts: &[Vec<u32>], join: &[usize], tbt: bool, steps: usize) -> Vec<Vec<Vec<u32>>> {
    let n = prompts.len();
    let mut caches: Vec<_> = prompts.iter().map(|p| m.new_cache(p.len() + steps).unwrap()).collect();
    let (mut fed, mut next) = (vec![0usize; n], vec![0u32; n]);
    let mut out: Vec<Vec<Vec<u32>>> = vec![Vec::new(); n];
    let mut round = 0;
    while out.iter().any(|s| s.len() < steps) {
        let live: Vec<usize> = (0..n).filter(|&i| join[i] <= round && out[i].len() < steps).collect();
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
            out[i].push(l.iter().map(|f| f.to_bits()).collect());
            next[i] = math::argmax_first(&l).unwrap() as u32;
        }
    }
    out
}

/// Which prompts and batch sizes a path is swept with.
pub struct Sweep<'a> {
    pub fast: (usize, &'a [usize]),
    /// The portable path (what a CPU without AVX2 runs) is several times slower: a sample of it.
    pub portable: (usize, &'a [usize]),
    pub steps: usize,
}

/// Runs every prompt alone (best path, one thread), then, per supported non-reference path, thread count
/// {1, 2} and batch size, the prompts in rotated groups (odd groups join staggered, the third token by token),
/// asserting each sequence's logit bits equal its run alone. Returns the number of sequence runs compared.
pub fn sweep(load: impl Fn(Path) -> Llama, ps: &[Vec<u32>], s: Sweep) -> usize {
    let best = load(Path::best());
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let alone: Vec<_> = one
        .install(|| ps.iter().map(|p| run(&best, std::slice::from_ref(p), &[0], false, s.steps).remove(0)).collect());
    let (t, mut compared, mut configs) = (std::time::Instant::now(), 0, 0);
    for path in Path::ALL.into_iter().filter(|p| p.supported() && *p != Path::Reference) {
        let (m, tp) = (load(path), std::time::Instant::now());
        let (n, batches) = if path == Path::Portable { s.portable } else { s.fast };
        let n = n.min(ps.len());
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            for &batch in batches {
                let order: Vec<usize> = (0..n).map(|i| (i + 5 * batch) % n).collect();
                for (gi, sel) in order.chunks(batch).enumerate() {
                    let group: Vec<Vec<u32>> = sel.iter().map(|&i| ps[i].clone()).collect();
                    let join: Vec<usize> = (0..sel.len()).map(|k| if gi % 2 == 1 { k } else { 0 }).collect();
                    let tbt = gi == 2;
                    let got = pool.install(|| run(&m, &group, &join, tbt, s.steps));
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
        "{compared} sequence runs ({configs} path/thread/batch configurations) × {} steps × {} logits compared bit \
         for bit in {:.0} s",
        s.steps,
        best.cfg.vocab,
        t.elapsed().as_secs_f64()
    );
    compared
}

/// `steps` greedy ids after `prompt`.
pub fn greedy(m: &Llama, prompt: &[u32], steps: usize) -> Vec<u32> {
    let mut c = m.new_cache(prompt.len() + steps).unwrap();
    let mut l = m.forward(&[prompt], &mut [&mut c]).unwrap().remove(0);
    (0..steps)
        .map(|i| {
            let t = math::argmax_first(&l).unwrap() as u32;
            if i + 1 < steps {
                l = m.forward(&[&[t]], &mut [&mut c]).unwrap().remove(0);
            }
            t
        })
        .collect()
}
