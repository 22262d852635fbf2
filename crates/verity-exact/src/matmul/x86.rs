//! x86-64 kernels of the spec's matrix product on the regrouped tiles ([`QMatrix`]): eight output columns per
//! call, their block terms in the eight lanes of one vector. Integer block sums by `vpmaddubsw`+`vpmaddwd`
//! (AVX2) or `vpdpbusd` (AVX-512 VNNI) are exact whatever their internal order; the float chain of each lane is
//! the reference's operation for operation (mul, mul, mul, add, add; Rust never contracts them into FMAs), so
//! every lane equals [`super::reference::dot`] bit for bit.
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

/// Which instructions form the integer sums.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Isa {
    Avx2,
    Vnni,
}

/// Q8_0: lane c of the result = the sum of the eight i32 lanes of `p[c]`.
#[inline(always)]
unsafe fn reduce8(p: &[__m256i; 8]) -> __m256i {
    let a = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
    let b = _mm256_hadd_epi32(_mm256_hadd_epi32(p[4], p[5]), _mm256_hadd_epi32(p[6], p[7]));
    _mm256_add_epi32(_mm256_permute2x128_si256(a, b, 0x20), _mm256_permute2x128_si256(a, b, 0x31))
}

/// Eight columns × every row of `x`, by `isa`.
#[inline(always)]
unsafe fn cols8(w: &QMatrix, x: &QActs, j0: usize, out_t: &mut [f32], isa: Isa) {
    let (nb, rows, tb) = (w.blocks(), x.rows, w.tile_bytes());
    let group = w.tiles.as_ptr().add((j0 / 8) * nb * tb);
    let (m15, ones16, z) = (_mm256_set1_epi8(15), _mm256_set1_epi16(1), _mm256_setzero_si256());
    let mut r0 = 0;
    while r0 < rows {
        let rt = (rows - r0).min(4);
        let mut acc = [_mm256_setzero_ps(); 4];
        for b in 0..nb {
            let tile = group.add(b * tb);
            let d = _mm256_cvtph_ps(_mm_loadu_si128(tile as *const __m128i));
            match w.ty {
                WeightType::Q4_1 => {
                    let m = _mm256_cvtph_ps(_mm_loadu_si128(tile.add(16) as *const __m128i));
                    let q = tile.add(32);
                    let mut lo = [z; 4];
                    let mut hi = [z; 4];
                    for i in 0..4 {
                        let v = _mm256_loadu_si256(q.add(32 * i) as *const __m256i);
                        lo[i] = _mm256_and_si256(v, m15);
                        hi[i] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m15);
                    }
                    for (rr, a) in acc.iter_mut().enumerate().take(rt) {
                        let xb = (r0 + rr) * nb + b;
                        let xq = x.q.as_ptr().add(xb * BLOCK);
                        let x0 = _mm256_broadcastsi128_si256(_mm_loadu_si128(xq as *const __m128i));
                        let x1 = _mm256_broadcastsi128_si256(_mm_loadu_si128(xq.add(16) as *const __m128i));
                        // Vector i holds columns 2i (low half) and 2i + 1 (high half).
                        let p: [__m256i; 4] = std::array::from_fn(|i| match isa {
                            Isa::Avx2 => _mm256_madd_epi16(
                                _mm256_add_epi16(_mm256_maddubs_epi16(lo[i], x0), _mm256_maddubs_epi16(hi[i], x1)),
                                ones16,
                            ),
                            Isa::Vnni => _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(z, lo[i], x0), hi[i], x1),
                        });
                        // Lanes [c0 c2 c4 c6 | c1 c3 c5 c7] (WeightType::lane).
                        let s = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
                        let t = _mm256_mul_ps(d, _mm256_set1_ps(*x.d.get_unchecked(xb)));
                        let u = _mm256_mul_ps(_mm256_cvtepi32_ps(s), t);
                        let v = _mm256_mul_ps(m, _mm256_set1_ps(*x.s.get_unchecked(xb)));
                        *a = _mm256_add_ps(*a, _mm256_add_ps(u, v));
                    }
                }
                WeightType::Q8_0 => {
                    let q = tile.add(16);
                    let mut wv = [z; 8];
                    for (c, v) in wv.iter_mut().enumerate() {
                        *v = _mm256_loadu_si256(q.add(32 * c) as *const __m256i);
                        if isa == Isa::Vnni {
                            *v = _mm256_xor_si256(*v, _mm256_set1_epi8(-128)); // w + 128 as u8
                        }
                    }
                    for (rr, a) in acc.iter_mut().enumerate().take(rt) {
                        let xb = (r0 + rr) * nb + b;
                        let xv = _mm256_loadu_si256(x.q.as_ptr().add(xb * BLOCK) as *const __m256i);
                        let p: [__m256i; 8] = std::array::from_fn(|c| match isa {
                            // |w| × (x signed by w): pairs stay within i16.
                            Isa::Avx2 => _mm256_madd_epi16(
                                _mm256_maddubs_epi16(_mm256_sign_epi8(wv[c], wv[c]), _mm256_sign_epi8(xv, wv[c])),
                                ones16,
                            ),
                            Isa::Vnni => _mm256_dpbusd_epi32(z, wv[c], xv),
                        });
                        let mut s = reduce8(&p);
                        if isa == Isa::Vnni {
                            s = _mm256_sub_epi32(s, _mm256_set1_epi32(128 * *x.qsum.get_unchecked(xb)));
                        }
                        let t = _mm256_mul_ps(d, _mm256_set1_ps(*x.d.get_unchecked(xb)));
                        *a = _mm256_add_ps(*a, _mm256_mul_ps(_mm256_cvtepi32_ps(s), t));
                    }
                }
            }
        }
        for (rr, a) in acc.iter().enumerate().take(rt) {
            let mut lanes = [0f32; 8];
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
    cols8(w, x, j0, out_t, Isa::Avx2)
}

/// AVX-512 VNNI on 256-bit vectors (caller checks [`has_avx512vnni`]).
#[target_feature(enable = "avx2,f16c,avx512vnni,avx512vl")]
pub unsafe fn cols8_vnni(w: &QMatrix, x: &QActs, j0: usize, out_t: &mut [f32]) {
    cols8(w, x, j0, out_t, Isa::Vnni)
}
