//! The AVX-512 VNNI kernel on 512-bit vectors: the tiles of two neighbouring column groups side by side (16 output
//! columns, one per lane), otherwise [`super::x86`]'s VNNI kernel operation for operation (same integer sums,
//! same float chain per lane), so each lane equals [`super::reference::dot`] bit for bit. Everything here is
//! `#[inline(always)]` into [`super::x86::cols16_vnni`], whose target features it relies on.
#![allow(clippy::needless_range_loop)]
use {
    super::Out,
    crate::quant::{QActs, QMatrix, WeightType, BLOCK},
    std::arch::x86_64::*,
};

/// The same block's tiles of two neighbouring column groups.
#[derive(Clone, Copy)]
struct Pair {
    a: *const u8,
    b: *const u8,
}

impl Pair {
    /// 32 bytes at `at` of each tile as one vector (the first tile's in the low half).
    #[inline(always)]
    unsafe fn load(self, at: usize) -> __m512i {
        let lo = _mm256_loadu_si256(self.a.add(at) as *const __m256i);
        _mm512_inserti64x4::<1>(_mm512_castsi256_si512(lo), _mm256_loadu_si256(self.b.add(at) as *const __m256i))
    }

    /// The eight f32 at `at` of each tile.
    #[inline(always)]
    unsafe fn floats(self, at: usize) -> __m512 {
        let lo = _mm512_castpd256_pd512(_mm256_loadu_pd(self.a.add(at) as *const f64));
        _mm512_castpd_ps(_mm512_insertf64x4::<1>(lo, _mm256_loadu_pd(self.b.add(at) as *const f64)))
    }

    /// The eight i8 at `at` of each tile as sixteen i32.
    #[inline(always)]
    unsafe fn bytes(self, at: usize) -> __m512i {
        let a = _mm_loadl_epi64(self.a.add(at) as *const __m128i);
        _mm512_cvtepi8_epi32(_mm_unpacklo_epi64(a, _mm_loadl_epi64(self.b.add(at) as *const __m128i)))
    }

    /// The eight f16 at `at` of each tile as sixteen f32 (exact).
    #[inline(always)]
    unsafe fn halves(self, at: usize) -> __m512 {
        let lo = _mm256_castsi128_si256(_mm_loadu_si128(self.a.add(at) as *const __m128i));
        _mm512_cvtph_ps(_mm256_inserti128_si256::<1>(lo, _mm_loadu_si128(self.b.add(at) as *const __m128i)))
    }
}

/// Activation bytes `4g..4g + 4` of a block, in every i32 lane.
#[inline(always)]
unsafe fn bcast(xq: *const i8, g: usize) -> __m512i {
    _mm512_set1_epi32((xq.add(4 * g) as *const i32).read_unaligned())
}

/// One Q4_1 (`F32`: Q4F) block of two tiles against `R` activation rows (block `xb0 + rr * nb` of row `rr`).
#[inline(always)]
unsafe fn q4_1_block<const F32: bool, const R: usize>(
    t: Pair,
    x: &QActs,
    xb0: usize,
    nb: usize,
    acc: &mut [__m512; R],
) {
    let (m15, z) = (_mm512_set1_epi8(15), _mm512_setzero_si512());
    let (d, m, qo) = if F32 { (t.floats(0), t.floats(32), 64) } else { (t.halves(0), t.halves(16), 32) };
    let mut lo = [z; 4];
    let mut hi = [z; 4];
    for g in 0..4 {
        let v = t.load(qo + 32 * g);
        lo[g] = _mm512_and_si512(v, m15);
        hi[g] = _mm512_and_si512(_mm512_srli_epi16::<4>(v), m15);
    }
    for rr in 0..R {
        let xb = xb0 + rr * nb;
        let xq = x.q.as_ptr().add(xb * BLOCK);
        // Few rows: four short chains (one would serialize on vpdpbusd's latency); many rows: one per row.
        let s = if R < 4 {
            let mut p = [z; 4];
            for g in 0..4 {
                p[g] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(z, lo[g], bcast(xq, g)), hi[g], bcast(xq, 4 + g));
            }
            _mm512_add_epi32(_mm512_add_epi32(p[0], p[1]), _mm512_add_epi32(p[2], p[3]))
        } else {
            let mut s = z;
            for g in 0..4 {
                s = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(s, lo[g], bcast(xq, g)), hi[g], bcast(xq, 4 + g));
            }
            s
        };
        let t = _mm512_mul_ps(d, _mm512_set1_ps(*x.d.get_unchecked(xb)));
        let u = _mm512_mul_ps(_mm512_cvtepi32_ps(s), t);
        let v = _mm512_mul_ps(m, _mm512_set1_ps(*x.s.get_unchecked(xb)));
        acc[rr] = _mm512_add_ps(acc[rr], _mm512_add_ps(u, v));
    }
}

/// One Q8_0 block of two tiles against `R` activation rows (weights + 128 as u8, the excess taken off with the
/// activations' sum, as in the 256-bit kernel).
#[inline(always)]
unsafe fn q8_0_block<const R: usize>(t: Pair, x: &QActs, xb0: usize, nb: usize, acc: &mut [__m512; R]) {
    let z = _mm512_setzero_si512();
    let d = t.halves(0);
    let mut wv = [z; 8];
    for (g, v) in wv.iter_mut().enumerate() {
        *v = _mm512_xor_si512(t.load(16 + 32 * g), _mm512_set1_epi8(-128));
    }
    for rr in 0..R {
        let xb = xb0 + rr * nb;
        let xq = x.q.as_ptr().add(xb * BLOCK);
        let mut p = [z; 4];
        for g in 0..8 {
            let c = if R < 4 { g % 4 } else { 0 };
            p[c] = _mm512_dpbusd_epi32(p[c], wv[g], bcast(xq, g));
        }
        let s = if R < 4 { _mm512_add_epi32(_mm512_add_epi32(p[0], p[1]), _mm512_add_epi32(p[2], p[3])) } else { p[0] };
        let s = _mm512_sub_epi32(s, _mm512_set1_epi32(128 * *x.qsum.get_unchecked(xb)));
        let t = _mm512_mul_ps(d, _mm512_set1_ps(*x.d.get_unchecked(xb)));
        acc[rr] = _mm512_add_ps(acc[rr], _mm512_mul_ps(_mm512_cvtepi32_ps(s), t));
    }
}

/// One Q6K block of two tiles against `R` activation rows (as the 256-bit kernel's `q6k_block`).
#[inline(always)]
unsafe fn q6k_block<const R: usize>(t: Pair, x: &QActs, xb0: usize, nb: usize, acc: &mut [__m512; R]) {
    let z = _mm512_setzero_si512();
    let (d, sc_lo, sc_hi) = (t.halves(0), t.bytes(16), t.bytes(24));
    let mut wv = [z; 8];
    for (g, v) in wv.iter_mut().enumerate() {
        *v = t.load(32 + 32 * g);
    }
    for rr in 0..R {
        let xb = xb0 + rr * nb;
        let xq = x.q.as_ptr().add(xb * BLOCK);
        let mut p = [z; 4];
        for g in 0..8 {
            let c = 2 * (g / 4) + if R < 4 { g % 2 } else { 0 };
            p[c] = _mm512_dpbusd_epi32(p[c], wv[g], bcast(xq, g));
        }
        let (u_lo, u_hi) =
            if R < 4 { (_mm512_add_epi32(p[0], p[1]), _mm512_add_epi32(p[2], p[3])) } else { (p[0], p[2]) };
        let x_lo = *x.qsum_lo.get_unchecked(xb);
        let x_hi = *x.qsum.get_unchecked(xb) - x_lo;
        let lo = _mm512_mullo_epi32(_mm512_sub_epi32(u_lo, _mm512_set1_epi32(32 * x_lo)), sc_lo);
        let hi = _mm512_mullo_epi32(_mm512_sub_epi32(u_hi, _mm512_set1_epi32(32 * x_hi)), sc_hi);
        let t = _mm512_mul_ps(d, _mm512_set1_ps(*x.d.get_unchecked(xb)));
        acc[rr] = _mm512_add_ps(acc[rr], _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(lo, hi)), t));
    }
}

/// Sixteen columns (groups `j0 / 8` and the next) × rows `r0..r0 + R`: one pass over both groups' tiles.
#[inline(always)]
pub(super) unsafe fn pass16<const R: usize>(w: &QMatrix, x: &QActs, j0: usize, r0: usize, out: Out) {
    let (nb, tb) = (w.blocks(), w.tile_bytes());
    let ga = w.tiles.as_ptr().add((j0 / 8) * nb * tb);
    let gb = ga.add(nb * tb);
    let mut acc = [_mm512_setzero_ps(); R];
    for b in 0..nb {
        let t = Pair { a: ga.add(b * tb), b: gb.add(b * tb) };
        match w.ty {
            WeightType::Q4_1 => q4_1_block::<false, R>(t, x, r0 * nb + b, nb, &mut acc),
            WeightType::Q4F => q4_1_block::<true, R>(t, x, r0 * nb + b, nb, &mut acc),
            WeightType::Q8_0 => q8_0_block::<R>(t, x, r0 * nb + b, nb, &mut acc),
            WeightType::Q6K => q6k_block::<R>(t, x, r0 * nb + b, nb, &mut acc),
        }
    }
    for rr in 0..R {
        _mm512_storeu_ps(out.at(r0 + rr, j0), acc[rr]);
    }
}
