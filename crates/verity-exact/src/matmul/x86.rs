//! x86-64 kernels of the spec's matrix product on the regrouped tiles ([`QMatrix`]): eight output columns per
//! call, their block terms in the eight lanes of one vector. Integer block sums by `vpmaddubsw`+`vpmaddwd`
//! (AVX2) or `vpdpbusd` (AVX-512 VNNI) are exact whatever their internal order; the float chain of each lane is
//! the reference's operation for operation (mul, mul, mul, add, add; Rust never contracts them into FMAs), so
//! every lane equals [`super::reference::dot`] bit for bit. Everything here is inlined into the two
//! `#[target_feature]` entry points (no closures: they would not inherit the features and every intrinsic would
//! become a call). Loops index fixed arrays of vectors by design.
#![allow(clippy::needless_range_loop)]
use {
    crate::quant::{QActs, QMatrix, WeightType, BLOCK},
    std::arch::x86_64::*,
};

pub fn has_avx2() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("f16c")
}

pub fn has_avx512vnni() -> bool {
    has_avx2() && is_x86_feature_detected!("avx512vnni") && is_x86_feature_detected!("avx512vl")
}

/// Activation rows that share one pass over a column group's tiles.
const ROWS: usize = 4;

/// Lane c of the result = the sum of the eight i32 lanes of `p[c]`.
#[inline(always)]
unsafe fn reduce8(p: &[__m256i; 8]) -> __m256i {
    let a = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
    let b = _mm256_hadd_epi32(_mm256_hadd_epi32(p[4], p[5]), _mm256_hadd_epi32(p[6], p[7]));
    _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31))
}

/// u8 × i8 pairs summed into i32 lanes (each lane: four adjacent products).
#[inline(always)]
unsafe fn dot_u8i8<const VNNI: bool>(acc: __m256i, u: __m256i, s: __m256i) -> __m256i {
    if VNNI {
        _mm256_dpbusd_epi32(acc, u, s)
    } else {
        _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)))
    }
}

/// One Q4_1 block of a tile against `rt` activation rows (block `xb0 + rr * nb` of row `rr`).
#[inline(always)]
unsafe fn q4_1_block<const VNNI: bool>(
    tile: *const u8,
    x: &QActs,
    xb0: usize,
    nb: usize,
    rt: usize,
    acc: &mut [__m256; ROWS],
) {
    let m15 = _mm256_set1_epi8(15);
    let z = _mm256_setzero_si256();
    let d = _mm256_cvtph_ps(_mm_loadu_si128(tile as *const __m128i));
    let m = _mm256_cvtph_ps(_mm_loadu_si128(tile.add(16) as *const __m128i));
    let q = tile.add(32);
    // Vector i holds columns 2i (low half) and 2i + 1 (high half): low nibbles are elements 0..16, high 16..32.
    let mut lo = [z; 4];
    let mut hi = [z; 4];
    for i in 0..4 {
        let v = _mm256_loadu_si256(q.add(32 * i) as *const __m256i);
        lo[i] = _mm256_and_si256(v, m15);
        hi[i] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m15);
    }
    for rr in 0..rt {
        let xb = xb0 + rr * nb;
        let xq = x.q.as_ptr().add(xb * BLOCK);
        let x0 = _mm256_broadcastsi128_si256(_mm_loadu_si128(xq as *const __m128i));
        let x1 = _mm256_broadcastsi128_si256(_mm_loadu_si128(xq.add(16) as *const __m128i));
        let mut p = [z; 4];
        for i in 0..4 {
            p[i] = dot_u8i8::<VNNI>(dot_u8i8::<VNNI>(z, lo[i], x0), hi[i], x1);
        }
        // Lanes [c0 c2 c4 c6 | c1 c3 c5 c7] (WeightType::lane).
        let s = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
        let t = _mm256_mul_ps(d, _mm256_set1_ps(*x.d.get_unchecked(xb)));
        let u = _mm256_mul_ps(_mm256_cvtepi32_ps(s), t);
        let v = _mm256_mul_ps(m, _mm256_set1_ps(*x.s.get_unchecked(xb)));
        acc[rr] = _mm256_add_ps(acc[rr], _mm256_add_ps(u, v));
    }
}

/// One Q8_0 block of a tile against `rt` activation rows.
#[inline(always)]
unsafe fn q8_0_block<const VNNI: bool>(
    tile: *const u8,
    x: &QActs,
    xb0: usize,
    nb: usize,
    rt: usize,
    acc: &mut [__m256; ROWS],
) {
    let z = _mm256_setzero_si256();
    let d = _mm256_cvtph_ps(_mm_loadu_si128(tile as *const __m128i));
    let q = tile.add(16);
    // VNNI: w + 128 as u8 (the excess is taken off with the activations' sum); AVX2: |w| and the sign on x.
    let mut wv = [z; 8];
    for (c, v) in wv.iter_mut().enumerate() {
        *v = _mm256_loadu_si256(q.add(32 * c) as *const __m256i);
        if VNNI {
            *v = _mm256_xor_si256(*v, _mm256_set1_epi8(-128));
        }
    }
    for rr in 0..rt {
        let xb = xb0 + rr * nb;
        let xv = _mm256_loadu_si256(x.q.as_ptr().add(xb * BLOCK) as *const __m256i);
        let mut p = [z; 8];
        for c in 0..8 {
            p[c] = if VNNI {
                _mm256_dpbusd_epi32(z, wv[c], xv)
            } else {
                dot_u8i8::<false>(z, _mm256_sign_epi8(wv[c], wv[c]), _mm256_sign_epi8(xv, wv[c]))
            };
        }
        let mut s = reduce8(&p);
        if VNNI {
            s = _mm256_sub_epi32(s, _mm256_set1_epi32(128 * *x.qsum.get_unchecked(xb)));
        }
        let t = _mm256_mul_ps(d, _mm256_set1_ps(*x.d.get_unchecked(xb)));
        acc[rr] = _mm256_add_ps(acc[rr], _mm256_mul_ps(_mm256_cvtepi32_ps(s), t));
    }
}

/// Eight columns × every row of `x`.
#[inline(always)]
unsafe fn cols8<const VNNI: bool>(w: &QMatrix, x: &QActs, j0: usize, out_t: &mut [f32]) {
    let (nb, rows, tb) = (w.blocks(), x.rows, w.tile_bytes());
    let group = w.tiles.as_ptr().add((j0 / 8) * nb * tb);
    let mut r0 = 0;
    while r0 < rows {
        let rt = (rows - r0).min(ROWS);
        let mut acc = [_mm256_setzero_ps(); ROWS];
        for b in 0..nb {
            let tile = group.add(b * tb);
            match w.ty {
                WeightType::Q4_1 => q4_1_block::<VNNI>(tile, x, r0 * nb + b, nb, rt, &mut acc),
                WeightType::Q8_0 => q8_0_block::<VNNI>(tile, x, r0 * nb + b, nb, rt, &mut acc),
            }
        }
        let mut lanes = [0f32; 8];
        for (rr, a) in acc.iter().enumerate().take(rt) {
            _mm256_storeu_ps(lanes.as_mut_ptr(), *a);
            for c in 0..8 {
                out_t[c * rows + r0 + rr] = lanes[w.ty.lane(c)];
            }
        }
        r0 += rt;
    }
}

/// AVX2 + F16C (caller checks [`has_avx2`]; `j0` a multiple of 8 within the full groups).
#[target_feature(enable = "avx2,f16c")]
pub unsafe fn cols8_avx2(w: &QMatrix, x: &QActs, j0: usize, out_t: &mut [f32]) {
    cols8::<false>(w, x, j0, out_t)
}

/// AVX-512 VNNI on 256-bit vectors (caller checks [`has_avx512vnni`]).
#[target_feature(enable = "avx2,f16c,avx512vnni,avx512vl")]
pub unsafe fn cols8_vnni(w: &QMatrix, x: &QActs, j0: usize, out_t: &mut [f32]) {
    cols8::<true>(w, x, j0, out_t)
}
