//! x86-64 kernels of the spec's matrix product on the column-interleaved tiles ([`QMatrix`]): eight output
//! columns per call, one column per vector lane, so each lane's integer block sum comes straight out of
//! `vpdpbusd` (AVX-512 VNNI) or `vpmaddubsw`+`vpmaddwd` (AVX2) against the activation's four-byte groups
//! broadcast to every lane (integer sums are exact whatever their internal order). The float chain of each lane
//! is the reference's operation for operation (mul, mul, mul, add, add; Rust never contracts them into FMAs), so
//! every lane equals [`super::reference::dot`] bit for bit and stores straight into its output column.
//! Everything is inlined into the two `#[target_feature]` entry points (no closures: they would not inherit the
//! features and every intrinsic would become a call). Loops index fixed arrays of vectors by design.
#![allow(clippy::needless_range_loop)]
use {
    super::Out,
    crate::quant::{QActs, QMatrix, WeightType, BLOCK},
    std::arch::x86_64::*,
};

pub fn has_avx2() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("f16c")
}

pub fn has_avx512vnni() -> bool {
    has_avx2()
        && is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vnni")
        && is_x86_feature_detected!("avx512vl")
}

/// Activation bytes `4g..4g + 4` of a block, in every i32 lane.
#[inline(always)]
unsafe fn bcast(xq: *const i8, g: usize) -> __m256i {
    _mm256_set1_epi32((xq.add(4 * g) as *const i32).read_unaligned())
}

/// One Q4_1 (`F32`: Q4F) block of a tile against `R` activation rows (block `xb0 + rr * nb` of row `rr`).
#[inline(always)]
unsafe fn q4_1_block<const VNNI: bool, const F32: bool, const R: usize>(
    tile: *const u8,
    x: &QActs,
    xb0: usize,
    nb: usize,
    acc: &mut [__m256; R],
) {
    let m15 = _mm256_set1_epi8(15);
    let z = _mm256_setzero_si256();
    let (d, m, q) = if F32 {
        (_mm256_loadu_ps(tile as *const f32), _mm256_loadu_ps(tile.add(32) as *const f32), tile.add(64))
    } else {
        let d = _mm256_cvtph_ps(_mm_loadu_si128(tile as *const __m128i));
        (d, _mm256_cvtph_ps(_mm_loadu_si128(tile.add(16) as *const __m128i)), tile.add(32))
    };
    // Vector g, lane c: quant bytes 4g..4g + 4 of column c; low nibbles are elements 4g.., high ones 16 + 4g...
    let mut lo = [z; 4];
    let mut hi = [z; 4];
    for g in 0..4 {
        let v = _mm256_loadu_si256(q.add(32 * g) as *const __m256i);
        lo[g] = _mm256_and_si256(v, m15);
        hi[g] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m15);
    }
    for rr in 0..R {
        let xb = xb0 + rr * nb;
        let xq = x.q.as_ptr().add(xb * BLOCK);
        let s = if VNNI {
            // Few rows: four short chains (one would serialize on vpdpbusd's latency); many rows: one chain per
            // row (the rows interleave).
            if R < 4 {
                let mut p = [z; 4];
                for g in 0..4 {
                    p[g] = _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(z, lo[g], bcast(xq, g)), hi[g], bcast(xq, 4 + g));
                }
                _mm256_add_epi32(_mm256_add_epi32(p[0], p[1]), _mm256_add_epi32(p[2], p[3]))
            } else {
                let mut s = z;
                for g in 0..4 {
                    s = _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(s, lo[g], bcast(xq, g)), hi[g], bcast(xq, 4 + g));
                }
                s
            }
        } else {
            // |pair| ≤ 2·15·127, so the eight i16 pair sums of a lane add up exactly before widening.
            let mut h = _mm256_setzero_si256();
            for g in 0..4 {
                h = _mm256_add_epi16(h, _mm256_maddubs_epi16(lo[g], bcast(xq, g)));
                h = _mm256_add_epi16(h, _mm256_maddubs_epi16(hi[g], bcast(xq, 4 + g)));
            }
            _mm256_madd_epi16(h, _mm256_set1_epi16(1))
        };
        let t = _mm256_mul_ps(d, _mm256_set1_ps(*x.d.get_unchecked(xb)));
        let u = _mm256_mul_ps(_mm256_cvtepi32_ps(s), t);
        let v = _mm256_mul_ps(m, _mm256_set1_ps(*x.s.get_unchecked(xb)));
        acc[rr] = _mm256_add_ps(acc[rr], _mm256_add_ps(u, v));
    }
}

/// One Q8_0 block of a tile against `R` activation rows.
#[inline(always)]
unsafe fn q8_0_block<const VNNI: bool, const R: usize>(
    tile: *const u8,
    x: &QActs,
    xb0: usize,
    nb: usize,
    acc: &mut [__m256; R],
) {
    let z = _mm256_setzero_si256();
    let d = _mm256_cvtph_ps(_mm_loadu_si128(tile as *const __m128i));
    let q = tile.add(16);
    // VNNI: w + 128 as u8 (the excess is taken off with the activations' sum); AVX2: |w| and the sign on x.
    let mut wv = [z; 8];
    for (g, v) in wv.iter_mut().enumerate() {
        *v = _mm256_loadu_si256(q.add(32 * g) as *const __m256i);
        if VNNI {
            *v = _mm256_xor_si256(*v, _mm256_set1_epi8(-128));
        }
    }
    for rr in 0..R {
        let xb = xb0 + rr * nb;
        let xq = x.q.as_ptr().add(xb * BLOCK);
        // Chains as in `q4_1_block`: four for few rows, one for many.
        let mut p = [z; 4];
        for g in 0..8 {
            let xv = bcast(xq, g);
            let c = if R < 4 { g % 4 } else { 0 };
            p[c] = if VNNI {
                _mm256_dpbusd_epi32(p[c], wv[g], xv)
            } else {
                let h = _mm256_maddubs_epi16(_mm256_sign_epi8(wv[g], wv[g]), _mm256_sign_epi8(xv, wv[g]));
                _mm256_add_epi32(p[c], _mm256_madd_epi16(h, _mm256_set1_epi16(1)))
            };
        }
        let mut s =
            if R < 4 { _mm256_add_epi32(_mm256_add_epi32(p[0], p[1]), _mm256_add_epi32(p[2], p[3])) } else { p[0] };
        if VNNI {
            s = _mm256_sub_epi32(s, _mm256_set1_epi32(128 * *x.qsum.get_unchecked(xb)));
        }
        let t = _mm256_mul_ps(d, _mm256_set1_ps(*x.d.get_unchecked(xb)));
        acc[rr] = _mm256_add_ps(acc[rr], _mm256_mul_ps(_mm256_cvtepi32_ps(s), t));
    }
}

/// One Q6K block of a tile against `R` activation rows: the quants (0..64) as u8 straight into `vpdpbusd` /
/// `vpmaddubsw` (pairs ≤ 2·63·127: no saturation), half sums `U_lo`, `U_hi` per lane, then
/// `sc_lo × (U_lo − 32 X_lo) + sc_hi × (U_hi − 32 X_hi)` (exact i32) and the reference's float chain.
#[inline(always)]
unsafe fn q6k_block<const VNNI: bool, const R: usize>(
    tile: *const u8,
    x: &QActs,
    xb0: usize,
    nb: usize,
    acc: &mut [__m256; R],
) {
    let z = _mm256_setzero_si256();
    let d = _mm256_cvtph_ps(_mm_loadu_si128(tile as *const __m128i));
    let sc_lo = _mm256_cvtepi8_epi32(_mm_loadl_epi64(tile.add(16) as *const __m128i));
    let sc_hi = _mm256_cvtepi8_epi32(_mm_loadl_epi64(tile.add(24) as *const __m128i));
    let q = tile.add(32);
    let mut wv = [z; 8];
    for (g, v) in wv.iter_mut().enumerate() {
        *v = _mm256_loadu_si256(q.add(32 * g) as *const __m256i);
    }
    for rr in 0..R {
        let xb = xb0 + rr * nb;
        let xq = x.q.as_ptr().add(xb * BLOCK);
        // Lanes p[0..2] sum the first half, p[2..4] the second (two chains each for few rows, one for many).
        let mut p = [z; 4];
        for g in 0..8 {
            let xv = bcast(xq, g);
            let c = 2 * (g / 4) + if R < 4 { g % 2 } else { 0 };
            p[c] = if VNNI {
                _mm256_dpbusd_epi32(p[c], wv[g], xv)
            } else {
                _mm256_add_epi32(p[c], _mm256_madd_epi16(_mm256_maddubs_epi16(wv[g], xv), _mm256_set1_epi16(1)))
            };
        }
        let (u_lo, u_hi) =
            if R < 4 { (_mm256_add_epi32(p[0], p[1]), _mm256_add_epi32(p[2], p[3])) } else { (p[0], p[2]) };
        let x_lo = *x.qsum_lo.get_unchecked(xb);
        let x_hi = *x.qsum.get_unchecked(xb) - x_lo;
        let lo = _mm256_mullo_epi32(_mm256_sub_epi32(u_lo, _mm256_set1_epi32(32 * x_lo)), sc_lo);
        let hi = _mm256_mullo_epi32(_mm256_sub_epi32(u_hi, _mm256_set1_epi32(32 * x_hi)), sc_hi);
        let t = _mm256_mul_ps(d, _mm256_set1_ps(*x.d.get_unchecked(xb)));
        acc[rr] = _mm256_add_ps(acc[rr], _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(lo, hi)), t));
    }
}

/// Eight columns × rows `r0..r0 + R`: one pass over the group's tiles.
#[inline(always)]
unsafe fn pass<const VNNI: bool, const R: usize>(w: &QMatrix, x: &QActs, j0: usize, r0: usize, out: Out) {
    let (nb, tb) = (w.blocks(), w.tile_bytes());
    let group = w.tiles.as_ptr().add((j0 / 8) * nb * tb);
    let mut acc = [_mm256_setzero_ps(); R];
    for b in 0..nb {
        let tile = group.add(b * tb);
        match w.ty {
            WeightType::Q4_1 => q4_1_block::<VNNI, false, R>(tile, x, r0 * nb + b, nb, &mut acc),
            WeightType::Q4F => q4_1_block::<VNNI, true, R>(tile, x, r0 * nb + b, nb, &mut acc),
            WeightType::Q8_0 => q8_0_block::<VNNI, R>(tile, x, r0 * nb + b, nb, &mut acc),
            WeightType::Q6K => q6k_block::<VNNI, R>(tile, x, r0 * nb + b, nb, &mut acc),
        }
    }
    for rr in 0..R {
        _mm256_storeu_ps(out.at(r0 + rr, j0), acc[rr]);
    }
}

/// Eight columns × every row of `x`, `R` rows per pass (the rest in one shorter pass).
#[inline(always)]
unsafe fn cols8<const VNNI: bool, const R: usize>(w: &QMatrix, x: &QActs, j0: usize, out: Out) {
    let rows = x.rows;
    let mut r0 = 0;
    while r0 + R <= rows {
        pass::<VNNI, R>(w, x, j0, r0, out);
        r0 += R;
    }
    match rows - r0 {
        0 => {}
        1 => pass::<VNNI, 1>(w, x, j0, r0, out),
        2 => pass::<VNNI, 2>(w, x, j0, r0, out),
        3 => pass::<VNNI, 3>(w, x, j0, r0, out),
        4 => pass::<VNNI, 4>(w, x, j0, r0, out),
        5 => pass::<VNNI, 5>(w, x, j0, r0, out),
        6 => pass::<VNNI, 6>(w, x, j0, r0, out),
        _ => pass::<VNNI, 7>(w, x, j0, r0, out),
    }
}

/// AVX2 + F16C (caller checks [`has_avx2`]; `j0` a multiple of 8 within the full groups, its columns owned).
#[target_feature(enable = "avx2,f16c")]
pub(super) unsafe fn cols8_avx2(w: &QMatrix, x: &QActs, j0: usize, out: Out) {
    cols8::<false, 4>(w, x, j0, out)
}

/// AVX-512 VNNI on 256-bit vectors, 32 registers (caller checks [`has_avx512vnni`]).
#[target_feature(enable = "avx2,f16c,avx512f,avx512bw,avx512vnni,avx512vl")]
pub(super) unsafe fn cols8_vnni(w: &QMatrix, x: &QActs, j0: usize, out: Out) {
    cols8::<true, 8>(w, x, j0, out)
}

/// AVX-512 VNNI on 512-bit vectors: two neighbouring groups (16 columns, `j0` a multiple of 16 with both groups
/// full and owned) per call, lanes 0..8 the first group's columns, 8..16 the second's; per lane the same
/// operations as [`cols8_vnni`].
#[target_feature(enable = "avx2,f16c,avx512f,avx512bw,avx512vnni,avx512vl")]
pub(super) unsafe fn cols16_vnni(w: &QMatrix, x: &QActs, j0: usize, out: Out) {
    let rows = x.rows;
    let mut r0 = 0;
    while r0 + 8 <= rows {
        super::x86_512::pass16::<8>(w, x, j0, r0, out);
        r0 += 8;
    }
    match rows - r0 {
        0 => {}
        1 => super::x86_512::pass16::<1>(w, x, j0, r0, out),
        2 => super::x86_512::pass16::<2>(w, x, j0, r0, out),
        3 => super::x86_512::pass16::<3>(w, x, j0, r0, out),
        4 => super::x86_512::pass16::<4>(w, x, j0, r0, out),
        5 => super::x86_512::pass16::<5>(w, x, j0, r0, out),
        6 => super::x86_512::pass16::<6>(w, x, j0, r0, out),
        _ => super::x86_512::pass16::<7>(w, x, j0, r0, out),
    }
}
