//! Greedy decoding of fixed token ids with the exact llama model, batch 1 and batched: `cargo run --release
//! --example generate -p verity-exact -- MODEL.gguf [threads] [batches, e.g. 1,4,16]`. Prints tok/s and the generated ids.
use verity_exact::{llama, math, matmul::Path};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let file = std::fs::read(&args[1]).expect("read model");
    let threads: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    // Run inside the pool, as the oracle's engine does: the calling thread is one of the workers.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let batches: Vec<usize> =
        args.get(3).map_or(vec![1, 4, 16], |s| s.split(',').map(|b| b.parse().expect("batch size")).collect());
    pool.install(|| run(&file, &batches));
}

fn run(file: &[u8], batches: &[usize]) {
    let m = llama::load(file, 1024, Path::from_env().unwrap()).expect("load");
    eprintln!("{:?} path {:?}", m.cfg, m.path());
    // SmolLM2's chat-templated "What is the capital of France?" unless VERITY_PROMPT_IDS lists ids (e.g. `1,2,3`).
    let from_env: Option<Vec<u32>> = std::env::var("VERITY_PROMPT_IDS")
        .ok()
        .map(|s| s.trim_matches(['[', ']']).split(',').map(|t| t.trim().parse().expect("a token id")).collect());
    let prompt: Vec<u32> = from_env.unwrap_or_else(|| {
        vec![
            1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411, 407, 19712, 8182,
            2, 198, 1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198,
        ]
    });
    for &batch in batches {
        let mut caches: Vec<_> = (0..batch).map(|_| m.new_cache(prompt.len() + 64).unwrap()).collect();
        let mut last = Vec::new();
        for c in caches.iter_mut() {
            let l = m.forward(&[&prompt], &mut [c]).unwrap();
            last.push(math::argmax_first(&l[0]).unwrap() as u32);
        }
        let t = std::time::Instant::now();
        let steps = 32;
        let mut out = vec![last.clone()];
        for _ in 0..steps {
            let seqs: Vec<[u32; 1]> = last.iter().map(|&t| [t]).collect();
            let refs: Vec<&[u32]> = seqs.iter().map(|s| &s[..]).collect();
            let mut cr: Vec<&mut llama::Cache> = caches.iter_mut().collect();
            let l = m.forward(&refs, &mut cr).unwrap();
            last = l.iter().map(|v| math::argmax_first(v).unwrap() as u32).collect();
            out.push(last.clone());
        }
        let s = t.elapsed().as_secs_f64();
        let ids: Vec<u32> = out.iter().map(|v| v[0]).collect();
        let same = out.iter().all(|v| v.iter().all(|&t| t == v[0]));
        println!(
            "batch {batch:2}: {:.1} tok/s aggregate ({:.1} per sequence); all sequences equal: {same}; ids {ids:?}",
            (steps * batch) as f64 / s,
            steps as f64 / s
        );
    }
}
