//! Batch-invariant f32 matrix product for CPU decode: `out[r][j] = dot(x[r], w[j])`.
//!
//! Every output element is computed by the same instruction sequence (16 independent lane accumulators
//! over `k`, a fixed pairwise lane reduction, then the scalar tail) whatever the number of rows, the row's
//! position in the batch or the thread count (work is split over output columns only). So a sequence's
//! logits are bit-identical alone or batched, with 1 or 16 threads. Rust never contracts `a*b+c` into
//! an FMA, so the result is also the same for SSE2, AVX2 or AVX-512 code. Weights are streamed once per
//! call and reused for every row, which is what makes batched decode cheaper than one call per row.

use rayon::prelude::*;

const LANES: usize = 16;
/// Output columns per parallel task.
const COLS_PER_TASK: usize = 64;

/// Dot product with a fixed summation order (see module doc).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ac, bc) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (at, bt) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    let mut width = LANES / 2;
    while width > 0 {
        for i in 0..width {
            acc[i] += acc[i + width];
        }
        width /= 2;
    }
    let mut tail = 0f32;
    for (x, y) in at.iter().zip(bt) {
        tail += x * y;
    }
    acc[0] + tail
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn columns_avx2(x: &[f32], rows: usize, w: &[f32], k: usize, j0: usize, out_t: &mut [f32]) {
    columns_generic(x, rows, w, k, j0, out_t)
}

/// Fill `out_t` (column-major block: `out_t[jj * rows + r]`) for columns `j0..`.
#[inline(always)]
fn columns_generic(x: &[f32], rows: usize, w: &[f32], k: usize, j0: usize, out_t: &mut [f32]) {
    for (jj, col) in out_t.chunks_mut(rows).enumerate() {
        let wj = &w[(j0 + jj) * k..(j0 + jj + 1) * k];
        for (r, o) in col.iter_mut().enumerate() {
            *o = dot(&x[r * k..(r + 1) * k], wj);
        }
    }
}

fn columns(x: &[f32], rows: usize, w: &[f32], k: usize, j0: usize, out_t: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above); the body is safe Rust.
        return unsafe { columns_avx2(x, rows, w, k, j0, out_t) };
    }
    columns_generic(x, rows, w, k, j0, out_t)
}

/// `x: rows × k` (row-major), `w: n × k` (row-major) → `rows × n` (row-major).
pub fn matmul_xwt(x: &[f32], rows: usize, w: &[f32], n: usize, k: usize) -> Vec<f32> {
    debug_assert_eq!(x.len(), rows * k);
    debug_assert_eq!(w.len(), n * k);
    let mut out_t = vec![0f32; n * rows];
    out_t.par_chunks_mut(COLS_PER_TASK * rows).enumerate().for_each(|(t, block)| {
        columns(x, rows, w, k, t * COLS_PER_TASK, block);
    });
    let mut out = vec![0f32; rows * n];
    for j in 0..n {
        for r in 0..rows {
            out[r * n + j] = out_t[j * rows + r];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect()
    }

    #[test]
    fn matches_naive_product_closely() {
        let (rows, n, k) = (3, 70, 37);
        let (x, w) = (pseudo(rows * k, 1), pseudo(n * k, 2));
        let out = matmul_xwt(&x, rows, &w, n, k);
        for r in 0..rows {
            for j in 0..n {
                let want: f64 = (0..k).map(|i| f64::from(x[r * k + i]) * f64::from(w[j * k + i])).sum();
                assert!((f64::from(out[r * n + j]) - want).abs() < 1e-4, "{r},{j}");
            }
        }
    }

    #[test]
    fn rows_are_bit_identical_alone_or_batched() {
        let (n, k) = (300, 576);
        let w = pseudo(n * k, 7);
        let x = pseudo(5 * k, 9);
        let batched = matmul_xwt(&x, 5, &w, n, k);
        for r in 0..5 {
            let alone = matmul_xwt(&x[r * k..(r + 1) * k], 1, &w, n, k);
            assert_eq!(alone, batched[r * n..(r + 1) * n], "row {r}");
        }
    }
}
