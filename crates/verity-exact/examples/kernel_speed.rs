//! Rough speed of each kernel path on SmolLM2-135M's shapes and Qwen2.5-0.5B's FFN down projection in each of
//! its forms (GB/s of kernel-form weights streamed): `cargo run --release
//! --example kernel_speed -p verity-exact`.
use verity_exact::{
    matmul::{matmul, Path},
    quant::{QActs, QMatrix, WeightType},
};

fn main() {
    let shapes = [
        (WeightType::Q8_0, 49152usize, 576usize),
        (WeightType::Q4_1, 1536, 576),
        (WeightType::Q4_1, 576, 1536),
        (WeightType::Q8_0, 896, 4864),
        (WeightType::Q4F, 896, 4864),
        (WeightType::Q6K, 896, 4864),
    ];
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    for (ty, n, k) in shapes {
        let bytes = n * k / 32 * ty.block_bytes();
        // Scale bytes masked to finite values (exactness does not depend on them; speed does not either).
        let head = ty.head_bytes();
        let mut data: Vec<u8> = (0..bytes)
            .map(|i| (i * 7919 % 251) as u8 & if i % ty.block_bytes() < head { 0x3b } else { 0xff })
            .collect();
        if ty == WeightType::Q4F {
            // Normal f32 scale and offset (masked bytes would be subnormal: slow on x86, and never a real Q4_K's).
            for (b, blk) in data.chunks_exact_mut(ty.block_bytes()).enumerate() {
                blk[..4].copy_from_slice(&(0.01 + (b % 7) as f32 * 1e-3).to_le_bytes());
                blk[4..8].copy_from_slice(&(-0.05f32).to_le_bytes());
            }
        }
        let w = QMatrix::new(ty, n, k, data).unwrap();
        for rows in [1usize, 4, 16] {
            let x: Vec<f32> = (0..rows * k).map(|i| ((i * 31 % 97) as f32) - 48.0).collect();
            let q = QActs::quantize(&x, rows, k);
            let mut out = vec![0f32; rows * n];
            for p in Path::ALL.into_iter().filter(|p| p.supported() && *p != Path::Reference) {
                // Timed inside the pool, as the engine runs a forward pass (no hand-off per product).
                let s = pool.install(|| {
                    let t = std::time::Instant::now();
                    let mut it = 0;
                    while t.elapsed().as_secs_f64() < 0.3 {
                        matmul(&w, &q, &mut out, p);
                        it += 1;
                    }
                    t.elapsed().as_secs_f64() / it as f64
                });
                println!(
                    "{ty:?} {n}x{k} rows {rows:2} {:>10}: {:8.3} ms  {:6.2} GB/s",
                    p.name(),
                    s * 1e3,
                    bytes as f64 / s / 1e9
                );
            }
        }
    }
}
