//! x86-64 AVX2 forms of the spec's element-wise steps (NUMERICS.md §3 quantization, §5.1–5.2 exp and SiLU),
//! eight elements per vector, each lane by the scalar code's operations in the scalar code's order (no FMA), so
//! every result is bit-equal to [`crate::quant::quantize_block`] and [`crate::math::silu`] (tested on edge values).
#![cfg(target_arch = "x86_64")]
use {crate::quant::BLOCK, std::arch::x86_64::*};

/// §3 on one block: `(d, Σq)`, `q` written; bit-equal to [`crate::quant::quantize_block`].
///
/// # Safety
/// The CPU must have AVX2 (checked by the caller's kernel path).
#[target_feature(enable = "avx2")]
pub unsafe fn quantize_block(x: &[f32], q: &mut [i8; BLOCK]) -> (f32, i32) {
    let x = &x[..BLOCK];
    let abs = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
    let v: [__m256; 4] = [0, 8, 16, 24].map(|i| _mm256_loadu_ps(x.as_ptr().add(i)));
    // max_ps(a, m) returns m when a is NaN: NaN elements are skipped, as in the scalar `a > amax`.
    let mut m = _mm256_setzero_ps();
    for vi in v {
        m = _mm256_max_ps(_mm256_and_ps(vi, abs), m);
    }
    let mut lanes = [0f32; 8];
    _mm256_storeu_ps(lanes.as_mut_ptr(), m);
    let amax = lanes.iter().fold(0f32, |a, &b| if b > a { b } else { a });
    if amax == 0.0 {
        *q = [0; BLOCK];
        return (0.0, 0);
    }
    let d = amax / 127.0;
    let id = _mm256_set1_ps(127.0 / amax);
    let (lo, hi) = (_mm256_set1_ps(-127.0), _mm256_set1_ps(127.0));
    let mut sum = _mm256_setzero_si256();
    let mut qi = [_mm256_setzero_si256(); 4];
    for (i, vi) in v.into_iter().enumerate() {
        let r = _mm256_round_ps(_mm256_mul_ps(vi, id), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        // NaN → 0 first (max/min would turn it into a bound), then the clamp.
        let r = _mm256_and_ps(r, _mm256_cmp_ps(r, r, _CMP_ORD_Q));
        let r = _mm256_min_ps(_mm256_max_ps(r, lo), hi);
        qi[i] = _mm256_cvtps_epi32(r);
        sum = _mm256_add_epi32(sum, qi[i]);
    }
    // i32 → i8 in element order (packs interleave 128-bit halves; the permute restores the order).
    let p = _mm256_packs_epi16(_mm256_packs_epi32(qi[0], qi[1]), _mm256_packs_epi32(qi[2], qi[3]));
    let p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(q.as_mut_ptr() as *mut __m256i, p);
    let mut s = [0i32; 8];
    _mm256_storeu_si256(s.as_mut_ptr() as *mut __m256i, sum);
    (d, s.iter().sum())
}

/// §5.1 on eight lanes (the scalar `math::exp`, branches as blends).
#[inline(always)]
unsafe fn exp8(x: __m256) -> __m256 {
    const C: [f32; 7] = [1.0, 1.0, 0.5, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0, 1.0 / 720.0];
    let (hi_lim, lo_lim) = (_mm256_set1_ps(88.722_84), _mm256_set1_ps(-87.336_54));
    // Out-of-range lanes compute on 0 and are replaced at the end.
    let big = _mm256_cmp_ps(x, hi_lim, _CMP_GT_OQ);
    let small = _mm256_cmp_ps(x, lo_lim, _CMP_LT_OQ);
    let nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    let xs = _mm256_andnot_ps(_mm256_or_ps(_mm256_or_ps(big, small), nan), x);
    let n = _mm256_round_ps(
        _mm256_mul_ps(xs, _mm256_set1_ps(crate::math::LOG2E)),
        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC,
    );
    let r = _mm256_sub_ps(
        _mm256_sub_ps(xs, _mm256_mul_ps(n, _mm256_set1_ps(crate::math::LN2_HI))),
        _mm256_mul_ps(n, _mm256_set1_ps(crate::math::LN2_LO)),
    );
    let mut p = _mm256_set1_ps(C[6]);
    for c in C[..6].iter().rev() {
        p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(*c));
    }
    let ni = _mm256_cvtps_epi32(n);
    let is128 = _mm256_castsi256_ps(_mm256_cmpgt_epi32(ni, _mm256_set1_epi32(127)));
    let scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(ni, _mm256_set1_epi32(127)), 23));
    let normal = _mm256_mul_ps(p, scale);
    let top = _mm256_mul_ps(_mm256_mul_ps(p, _mm256_set1_ps(f32::from_bits(254 << 23))), _mm256_set1_ps(2.0));
    let mut y = _mm256_blendv_ps(normal, top, is128);
    y = _mm256_blendv_ps(y, _mm256_set1_ps(f32::INFINITY), big);
    y = _mm256_andnot_ps(small, y);
    _mm256_blendv_ps(y, x, nan)
}

/// `out_i = silu(gate_i) × up_i` (§6.3's FFN activation), bit-equal to the scalar form.
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn silu_mul(gate: &[f32], up: &[f32], out: &mut [f32]) {
    let n = gate.len().min(up.len()).min(out.len());
    let (one, neg) = (_mm256_set1_ps(1.0), _mm256_set1_ps(-0.0));
    let mut i = 0;
    while i + 8 <= n {
        let g = _mm256_loadu_ps(gate.as_ptr().add(i));
        let s = _mm256_div_ps(g, _mm256_add_ps(one, exp8(_mm256_xor_ps(g, neg))));
        _mm256_storeu_ps(out.as_mut_ptr().add(i), _mm256_mul_ps(s, _mm256_loadu_ps(up.as_ptr().add(i))));
        i += 8;
    }
    for j in i..n {
        out[j] = crate::math::silu(gate[j]) * up[j];
    }
}

/// `v_i = exp(v_i − m)` in place (softmax's numerators), bit-equal to the scalar form.
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn exp_minus(v: &mut [f32], m: f32) {
    let mv = _mm256_set1_ps(m);
    let mut i = 0;
    while i + 8 <= v.len() {
        let p = v.as_mut_ptr().add(i);
        _mm256_storeu_ps(p, exp8(_mm256_sub_ps(_mm256_loadu_ps(p), mv)));
        i += 8;
    }
    for x in &mut v[i..] {
        *x = crate::math::exp(*x - m);
    }
}
