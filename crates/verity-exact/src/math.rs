//! The spec's float functions (oracle/NUMERICS.md §5–6), written with IEEE-754 basic operations only (+ − × ÷ √,
//! each correctly rounded, never fused), so every conforming device computes the same bits: the `sum8` reduction
//! order, exp, SiLU, RMSNorm, softmax, and the RoPE tables (computed in f64 by own ln / exp / sin / cos, then
//! rounded to f32).

use crate::matmul::Path;

/// `Σ v` in the spec's order: lane `l` adds the elements `i ≡ l (mod 8)` in increasing `i` (from +0.0), then
/// `((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7))`.
#[inline]
pub fn sum8(v: &[f32]) -> f32 {
    let mut l = [0f32; 8];
    let chunks = v.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            l[i] += c[i];
        }
    }
    for (i, t) in tail.iter().enumerate() {
        l[i] += t;
    }
    combine8(l)
}

/// `Σ a_i × b_i` in [`sum8`]'s order (each product rounded, then added to its lane).
#[inline]
pub fn dot8(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut l = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ta, tb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            l[i] += x[i] * y[i];
        }
    }
    for (i, (x, y)) in ta.iter().zip(tb).enumerate() {
        l[i] += x * y;
    }
    combine8(l)
}

#[inline(always)]
fn combine8(l: [f32; 8]) -> f32 {
    ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))
}

/// High and low parts of ln 2 (Cody–Waite: `n × LN2_HI` is exact for |n| ≤ 256).
pub(crate) const LN2_HI: f32 = f32::from_bits(0x3f31_7200); // 0.693145751953125
pub(crate) const LN2_LO: f32 = f32::from_bits(0x35bf_be8e); // 1.4286068e-6
pub(crate) const LOG2E: f32 = f32::from_bits(0x3fb8_aa3b); // 1.442695

/// e^x (§5.1): `n = round_ties_even(x × log2e)`, `r = (x − n·LN2_HI) − n·LN2_LO`, the degree-6 Taylor polynomial
/// of e^r by Horner, times 2^n (two steps when n = 128). x > 88.72284 → +∞, x < −87.33654 → +0, NaN → NaN.
#[inline]
pub fn exp(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    if x > 88.722_84 {
        return f32::INFINITY;
    }
    if x < -87.336_54 {
        return 0.0;
    }
    let n = (x * LOG2E).round_ties_even();
    let r = (x - n * LN2_HI) - n * LN2_LO;
    const C: [f32; 7] = [1.0, 1.0, 0.5, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0, 1.0 / 720.0];
    let mut p = C[6];
    for c in C[..6].iter().rev() {
        p = p * r + c;
    }
    let n = n as i32; // −126 ..= 128
    if n > 127 {
        p * f32::from_bits(254 << 23) * 2.0
    } else {
        p * f32::from_bits(((n + 127) as u32) << 23)
    }
}

/// SiLU (§5.2): `x / (1 + exp(−x))`.
#[inline]
pub fn silu(x: f32) -> f32 {
    x / (1.0 + exp(-x))
}

/// `out_i = silu(gate_i) × up_i` (the FFN's gate, §6.3) with the element-wise code of kernel `path`.
pub fn silu_mul(gate: &[f32], up: &[f32], out: &mut [f32], path: Path) {
    #[cfg(target_arch = "x86_64")]
    if path.simd() {
        // SAFETY: a SIMD path is only chosen when the CPU has AVX2.
        return unsafe { crate::simd::silu_mul(gate, up, out) };
    }
    let _ = path;
    for ((o, g), u) in out.iter_mut().zip(gate).zip(up) {
        *o = silu(*g) * u;
    }
}

/// RMSNorm (§5.3) of `x` into `out`: `r = 1 / √((sum8(x·x) / n) + eps)`, `out_i = (x_i × r) × g_i`.
pub fn rms_norm(x: &[f32], g: &[f32], eps: f32, out: &mut [f32]) {
    let ss = dot8(x, x);
    let r = 1.0 / ((ss / x.len() as f32) + eps).sqrt();
    for ((o, v), w) in out.iter_mut().zip(x).zip(g) {
        *o = (v * r) * w;
    }
}

/// Softmax in place (§5.4): `m = max`, `e_i = exp(x_i − m)`, `z = sum8(e)`, `p_i = e_i / z`.
pub fn softmax(x: &mut [f32]) {
    softmax_by(x, Path::Reference)
}

/// [`softmax`] with the element-wise code of kernel `path` (every path gives the same bits).
pub fn softmax_by(x: &mut [f32], path: Path) {
    let m = x.iter().fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    #[cfg(target_arch = "x86_64")]
    if path.simd() {
        // SAFETY: a SIMD path is only chosen when the CPU has AVX2.
        unsafe { crate::simd::exp_minus(x, m) };
    } else {
        x.iter_mut().for_each(|v| *v = exp(*v - m));
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = path;
        x.iter_mut().for_each(|v| *v = exp(*v - m));
    }
    let z = sum8(x);
    for v in x.iter_mut() {
        *v /= z;
    }
}

/// Index of the first maximum (§7). None for an empty slice or when any logit is NaN (an error: no token).
pub fn argmax_first(x: &[f32]) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &v) in x.iter().enumerate() {
        if v.is_nan() {
            return None;
        }
        match best {
            Some((_, b)) if v <= b => {}
            _ => best = Some((i, v)),
        }
    }
    best.map(|(i, _)| i)
}

// ── f64 functions for the RoPE tables (§6) ──

const LN2_F64: f64 = std::f64::consts::LN_2;

/// ln x for finite x > 0: `x = m·2^e` (m in [√½, √2)), `f = (m − 1)/(m + 1)`, `ln m = 2·Σ_{k<12} f^(2k+1)/(2k+1)`
/// (Horner in f²), `ln x = e·ln2 + ln m`.
pub fn ln64(x: f64) -> f64 {
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & ((1u64 << 52) - 1)) | (1023u64 << 52));
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    let f = (m - 1.0) / (m + 1.0);
    let f2 = f * f;
    let mut s = 1.0 / 23.0;
    for k in (0..11).rev() {
        s = s * f2 + 1.0 / (2 * k + 1) as f64;
    }
    (e as f64) * LN2_F64 + 2.0 * f * s
}

/// e^y for |y| < 700: `n = round(y / ln2)`, `r = y − n·ln2`, Taylor to r^18 (Horner), times 2^n.
pub fn exp64(y: f64) -> f64 {
    let n = (y / LN2_F64).round_ties_even();
    let r = y - n * LN2_F64;
    let mut p = 1.0;
    for k in (1..=18).rev() {
        p = 1.0 + p * r / k as f64;
    }
    p * f64::from_bits(((n as i64 + 1023) as u64) << 52)
}

/// (sin a, cos a) for 0 ≤ a < 2^20: `k = round(a / (π/2))`, `r = ((a − k·P1) − k·P2) − k·P3` (fdlibm's π/2
/// split), Taylor series of sin r and cos r to r^21 / r^20, rotated by the quadrant `k mod 4`.
pub fn sincos64(a: f64) -> (f64, f64) {
    const P1: f64 = f64::from_bits(0x3ff9_21fb_5440_0000); // 1.57079632673412561417
    const P2: f64 = f64::from_bits(0x3dd0_b461_1a60_0000); // 6.077100506303966e-11
    const P3: f64 = f64::from_bits(0x3ba3_198a_2e00_0000); // 2.0222662487111665e-21
    let k = (a / std::f64::consts::FRAC_PI_2).round_ties_even();
    let r = ((a - k * P1) - k * P2) - k * P3;
    let r2 = r * r;
    let (mut s, mut c) = (1.0, 1.0);
    for n in (1..=10).rev() {
        s = 1.0 - s * r2 / ((2 * n) * (2 * n + 1)) as f64;
        c = 1.0 - c * r2 / ((2 * n - 1) * (2 * n)) as f64;
    }
    let (s, c) = (s * r, c);
    match (k as i64).rem_euclid(4) {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
    }
}

/// RoPE tables (§6): for position p < `positions` and pair i < `head_dim / 2`,
/// `θ_i = exp64(−(2i / head_dim) × ln64(base))`, `(sin, cos)(p × θ_i)` in f64, each rounded to f32.
/// Returned as `(cos, sin)`, row-major `[p][i]`.
pub fn rope_tables(base: f32, head_dim: usize, positions: usize) -> (Vec<f32>, Vec<f32>) {
    let half = head_dim / 2;
    let lb = ln64(f64::from(base));
    let theta: Vec<f64> = (0..half).map(|i| exp64(-((2 * i) as f64 / head_dim as f64) * lb)).collect();
    let (mut cos, mut sin) = (Vec::with_capacity(positions * half), Vec::with_capacity(positions * half));
    for p in 0..positions {
        for t in &theta {
            let (s, c) = sincos64(p as f64 * t);
            cos.push(c as f32);
            sin.push(s as f32);
        }
    }
    (cos, sin)
}

/// Rotates adjacent pairs of `x` (one head, `head_dim` values) by position `p`'s angles (§6):
/// `(x0, x1) → ((x0·c) − (x1·s), (x0·s) + (x1·c))`.
#[inline]
pub fn rope(x: &mut [f32], cos: &[f32], sin: &[f32]) {
    for (i, pair) in x.chunks_exact_mut(2).enumerate() {
        let (c, s) = (cos[i], sin[i]);
        let (x0, x1) = (pair[0], pair[1]);
        pair[0] = x0 * c - x1 * s;
        pair[1] = x0 * s + x1 * c;
    }
}

/// Rotates the pairs `(x_i, x_{i + D/2})` of `x` (one head of `D` values; GGUF's NEOX RoPE: qwen2) by the same
/// angles and operations as [`rope`].
#[inline]
pub fn rope_neox(x: &mut [f32], cos: &[f32], sin: &[f32]) {
    let half = x.len() / 2;
    let (a, b) = x.split_at_mut(half);
    for i in 0..half {
        let (c, s) = (cos[i], sin[i]);
        let (x0, x1) = (a[i], b[i]);
        a[i] = x0 * c - x1 * s;
        b[i] = x0 * s + x1 * c;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_close_to_the_true_exponential_and_handles_its_edges() {
        let mut worst = 0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let got = f64::from(exp(x));
            let want = f64::from(x).exp();
            worst = worst.max(((got - want) / want).abs());
            x += 0.0137;
        }
        assert!(worst < 4e-7, "relative error {worst}");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-100.0), 0.0);
        assert_eq!(exp(100.0), f32::INFINITY);
        assert!(exp(f32::NAN).is_nan());
        assert!(exp(88.7) > 1e38);
    }

    #[test]
    fn f64_functions_are_accurate() {
        for x in [1e-3, 0.5, 1.0, 2.0, 10000.0, 100000.0, 1e6] {
            assert!((ln64(x) - x.ln()).abs() < 1e-14 * x.ln().abs().max(1.0), "ln {x}");
        }
        for y in [-20.0, -1.0, -0.1, 0.0, 0.3, 5.0] {
            assert!((exp64(y) - y.exp()).abs() < 1e-14 * y.exp(), "exp {y}");
        }
        for a in [0.0, 0.1, 1.0, 3.0, 100.0, 8191.0, 65535.5] {
            let (s, c) = sincos64(a);
            assert!((s - a.sin()).abs() < 1e-12 && (c - a.cos()).abs() < 1e-12, "sincos {a}");
        }
    }

    #[test]
    fn sum8_follows_its_lane_order() {
        let v: Vec<f32> = (0..19).map(|i| 1.0 + i as f32 * 1e-7).collect();
        let mut l = [0f32; 8];
        for (i, x) in v.iter().enumerate() {
            l[i % 8] += x;
        }
        let want = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
        assert_eq!(sum8(&v).to_bits(), want.to_bits());
        assert_eq!(dot8(&v, &[1.0; 19]).to_bits(), want.to_bits());
    }

    #[test]
    fn softmax_sums_to_one_and_argmax_takes_the_first_maximum() {
        let mut x = vec![1.0, 3.0, 3.0, -2.0, f32::NEG_INFINITY];
        softmax(&mut x);
        assert!((x.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(x[4], 0.0);
        assert_eq!(argmax_first(&[1.0, 3.0, 3.0]), Some(1));
        assert_eq!(argmax_first(&[1.0, f32::NAN, 2.0]), None);
        assert_eq!(argmax_first(&[f32::NEG_INFINITY, -1.0]), Some(1));
        assert_eq!(argmax_first(&[]), None);
    }
}
