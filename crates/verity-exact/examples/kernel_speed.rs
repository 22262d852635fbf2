//! Rough speed of each kernel path on SmolLM2-135M's shapes (GB/s of weights streamed): `cargo run --release
//! --example kernel_speed -p verity-exact`.
use verity_exact::{
    matmul::{matmul, Path},
    quant::{QActs, QMatrix, WeightType},
};

fn main() {
    let shapes =
        [(WeightType::Q8_0, 49152usize, 576usize), (WeightType::Q4_1, 1536, 576), (WeightType::Q4_1, 576, 1536)];
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    for (ty, n, k) in shapes {
        let bytes = n * k / 32 * ty.block_bytes();
        let data: Vec<u8> = (0..bytes).map(|i| (i * 7919 % 251) as u8 & if i % 20 < 4 { 0x3b } else { 0xff }).collect();
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
