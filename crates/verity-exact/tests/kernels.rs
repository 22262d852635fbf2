//! Every kernel path equals the scalar reference bit for bit, on every weight type, at batch sizes 1..17 and
//! thread counts 1 and 2; each row of a batch equals the same row alone.
use verity_exact::{
    matmul::{dot_reference, matmul, Path},
    quant::{QActs, QMatrix, WeightType},
};

/// Deterministic pseudo-random numbers (LCG).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) as u32
    }
    fn f32(&mut self) -> f32 {
        (self.next() as f32 / (1u64 << 31) as f32) - 0.5
    }
}

/// A random weight matrix of `ty` with valid f16 scales (and every byte value in the quants, -128 included).
fn weights(ty: WeightType, n: usize, k: usize, seed: u64) -> QMatrix {
    QMatrix::new(ty, n, k, gguf_bytes(ty, n, k, seed)).unwrap()
}

/// Every weight type of the kernels.
const TYPES: [WeightType; 4] = [WeightType::Q4_1, WeightType::Q8_0, WeightType::Q4F, WeightType::Q6K];

/// The block bytes ([`WeightType`]'s layout) of [`weights`]: Q6K's sub-scales span -128..=127 and its quants
/// 0..64; the other types' quants take every byte value.
fn gguf_bytes(ty: WeightType, n: usize, k: usize, seed: u64) -> Vec<u8> {
    let mut g = Lcg(seed);
    let nb = k / 32;
    let mut data = Vec::new();
    for _ in 0..n * nb {
        let f16 = |v: f32| half::f16::from_f32(v).to_bits().to_le_bytes();
        match ty {
            WeightType::Q4F => {
                data.extend_from_slice(&(g.f32() * 0.02).to_le_bytes());
                data.extend_from_slice(&(g.f32() * 0.1).to_le_bytes());
            }
            _ => data.extend_from_slice(&f16(g.f32() * 0.02)),
        }
        match ty {
            WeightType::Q4_1 => data.extend_from_slice(&f16(g.f32() * 0.1)),
            WeightType::Q6K => data.extend_from_slice(&[g.next() as u8, g.next() as u8]),
            _ => {}
        }
        for _ in 0..ty.quant_bytes() {
            let q = g.next() as u8;
            data.push(if ty == WeightType::Q6K { q & 63 } else { q });
        }
    }
    data
}

#[test]
fn the_regrouped_tiles_give_back_every_gguf_block() {
    for ty in TYPES {
        let (n, k) = (21, 96);
        let data = gguf_bytes(ty, n, k, 1);
        let w = QMatrix::new(ty, n, k, data.clone()).unwrap();
        let (bb, qb, nb) = (ty.block_bytes(), ty.quant_bytes(), k / 32);
        for j in 0..n {
            for b in 0..nb {
                let src = &data[(j * nb + b) * bb..][..bb];
                let blk = w.block(j, b);
                let f = |at: usize| half::f16::from_le_bytes([src[at], src[at + 1]]).to_f32();
                let f32_at = |at: usize| f32::from_le_bytes(src[at..at + 4].try_into().unwrap());
                let (d, m, sc) = match ty {
                    WeightType::Q4_1 => (f(0), f(2), [1, 1]),
                    WeightType::Q8_0 => (f(0), 0.0, [1, 1]),
                    WeightType::Q4F => (f32_at(0), f32_at(4), [1, 1]),
                    WeightType::Q6K => (f(0), 0.0, [src[2] as i8, src[3] as i8]),
                };
                assert_eq!(
                    (blk.d.to_bits(), blk.m.to_bits(), blk.sc),
                    (d.to_bits(), m.to_bits(), sc),
                    "{ty:?} ({j}, {b})"
                );
                assert_eq!(&blk.qs[..qb], &src[bb - qb..], "{ty:?} ({j}, {b}) quants");
            }
        }
    }
}

fn acts(rows: usize, k: usize, seed: u64) -> (Vec<f32>, QActs) {
    let mut g = Lcg(seed);
    let mut x: Vec<f32> = (0..rows * k).map(|_| g.f32() * 4.0).collect();
    // A zero block and a block with one huge value exercise the quantizer's edges.
    x[..32].iter_mut().for_each(|v| *v = 0.0);
    if rows * k >= 64 {
        x[40] = 1e6;
    }
    let q = QActs::quantize(&x, rows, k);
    (x, q)
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|f| f.to_bits()).collect()
}

#[test]
fn every_path_equals_the_reference_bit_for_bit() {
    let paths: Vec<Path> = Path::ALL.into_iter().filter(|p| p.supported()).collect();
    eprintln!("paths on this CPU: {paths:?}");
    for ty in TYPES {
        for (n, k) in [(72usize, 576usize), (40, 1536), (13, 64), (5, 32)] {
            let w = weights(ty, n, k, 7 + n as u64);
            for rows in [1usize, 2, 3, 4, 5, 8, 16, 17] {
                let (_, x) = acts(rows, k, 100 + rows as u64);
                let want: Vec<f32> = (0..rows)
                    .flat_map(|r| (0..n).map(move |j| (r, j)))
                    .map(|(r, j)| dot_reference(&w, j, &x, r))
                    .collect();
                for &p in &paths {
                    for threads in [1, 2] {
                        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                        let mut out = vec![0f32; rows * n];
                        pool.install(|| matmul(&w, &x, &mut out, p));
                        assert_eq!(bits(&out), bits(&want), "{ty:?} {n}x{k} rows {rows} path {p:?} threads {threads}");
                    }
                }
            }
        }
    }
}

#[test]
fn a_row_is_the_same_alone_or_in_any_batch_position() {
    let w = weights(WeightType::Q4_1, 64, 576, 3);
    let (x, q) = acts(16, 576, 5);
    let mut batched = vec![0f32; 16 * 64];
    matmul(&w, &q, &mut batched, Path::best());
    for r in 0..16 {
        let alone = QActs::quantize(&x[r * 576..(r + 1) * 576], 1, 576);
        let mut out = vec![0f32; 64];
        matmul(&w, &alone, &mut out, Path::best());
        assert_eq!(bits(&out), bits(&batched[r * 64..(r + 1) * 64]), "row {r}");
    }
}

#[test]
fn the_product_approximates_the_float_product_of_the_dequantized_weights() {
    for ty in TYPES {
        let (n, k) = (16, 256);
        let w = weights(ty, n, k, 11);
        let mut g = Lcg(9);
        let x: Vec<f32> = (0..k).map(|_| g.f32()).collect();
        let q = QActs::quantize(&x, 1, k);
        let mut out = vec![0f32; n];
        matmul(&w, &q, &mut out, Path::Reference);
        let mut row = vec![0f32; k];
        for (j, got) in out.iter().enumerate() {
            w.dequantize_row(j, &mut row);
            let exact: f64 = row.iter().zip(&x).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum();
            let scale: f64 = row.iter().zip(&x).map(|(a, b)| (f64::from(*a) * f64::from(*b)).abs()).sum();
            assert!((f64::from(*got) - exact).abs() <= 0.02 * scale + 1e-6, "{ty:?} col {j}: {got} vs {exact}");
        }
    }
}
