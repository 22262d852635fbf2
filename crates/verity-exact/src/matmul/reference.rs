//! The spec's dot product written out element by element (NUMERICS.md §4), and a portable eight-column form of
//! the same operations on the kernels' tiles.
use {
    super::Out,
    crate::quant::{f16_at, f32_at, Block, QActs, QMatrix, WeightType, BLOCK},
};

/// The exact integer block sum of block `blk` with activation block `xq` (any order is exact): Q6K's is
/// `Σ (sc[i / 16] × (q_i − 32)) × x_i`.
#[inline(always)]
fn isum(ty: WeightType, blk: &Block, xq: &[i8]) -> i32 {
    let qs = &blk.qs;
    let mut s = 0i32;
    match ty {
        WeightType::Q4_1 | WeightType::Q4F => {
            for i in 0..16 {
                s += i32::from(qs[i] & 15) * i32::from(xq[i]) + i32::from(qs[i] >> 4) * i32::from(xq[16 + i]);
            }
        }
        WeightType::Q8_0 => {
            for i in 0..BLOCK {
                s += i32::from(qs[i] as i8) * i32::from(xq[i]);
            }
        }
        WeightType::Q6K => {
            for i in 0..BLOCK {
                s += i32::from(blk.sc[i / 16]) * (i32::from(qs[i]) - 32) * i32::from(xq[i]);
            }
        }
    }
    s
}

/// One block's term (§4): `f32(isum) × (d × dx)`, plus `m × sx` for the types with an offset (Q4_1, Q4F).
#[inline(always)]
fn term(ty: WeightType, blk: &Block, x: &QActs, xb: usize) -> f32 {
    let s = isum(ty, blk, &x.q[xb * BLOCK..(xb + 1) * BLOCK]);
    let u = s as f32 * (blk.d * x.d[xb]);
    if ty.has_offset() {
        u + blk.m * x.s[xb]
    } else {
        u
    }
}

/// `dot(w[j], x[r])`: `acc = +0; for each block b in order: acc = acc + term_b`.
pub fn dot(w: &QMatrix, j: usize, x: &QActs, r: usize) -> f32 {
    let nb = w.blocks();
    let mut acc = 0f32;
    for b in 0..nb {
        acc += term(w.ty, &w.block(j, b), x, r * nb + b);
    }
    acc
}

/// `out[r][j0 + c] = dot(w[j0 + c], x[r])` for `c < ncols`, element by element.
pub(super) fn cols(w: &QMatrix, x: &QActs, j0: usize, ncols: usize, out: Out) {
    for c in 0..ncols {
        for r in 0..x.rows {
            // SAFETY: the caller owns columns j0..j0 + ncols of `out`.
            unsafe { out.set(r, j0 + c, dot(w, j0 + c, x, r)) };
        }
    }
}

/// Rows of one pass of [`cols8_portable`].
const ROWS: usize = 4;

/// Eight columns at once straight from the group's tiles (byte `32·(i/4) + 4·c + i%4` is quant byte `i` of
/// column `c`), blocks outermost within each pass of up to four rows (each tile is read and its scales converted
/// once per pass); per element exactly [`dot`]'s operations.
pub(super) fn cols8_portable(w: &QMatrix, x: &QActs, j0: usize, out: Out) {
    let (nb, rows, tb, qo) = (w.blocks(), x.rows, w.tile_bytes(), w.tile_quants());
    let group = &w.tiles[(j0 / 8) * nb * tb..][..nb * tb];
    for r0 in (0..rows).step_by(ROWS) {
        let rt = (rows - r0).min(ROWS);
        let mut acc = [[0f32; 8]; ROWS];
        for b in 0..nb {
            let tile = &group[b * tb..][..tb];
            let d: [f32; 8] = match w.ty {
                WeightType::Q4F => std::array::from_fn(|c| f32_at(tile, 4 * c)),
                _ => std::array::from_fn(|c| f16_at(tile, 2 * c)),
            };
            let m: [f32; 8] = match w.ty {
                WeightType::Q4_1 => std::array::from_fn(|c| f16_at(tile, 16 + 2 * c)),
                WeightType::Q4F => std::array::from_fn(|c| f32_at(tile, 32 + 4 * c)),
                _ => [0.0; 8],
            };
            let q = &tile[qo..];
            for (rr, a) in acc.iter_mut().enumerate().take(rt) {
                let xb = (r0 + rr) * nb + b;
                let xq: &[i8; BLOCK] = x.q[xb * BLOCK..][..BLOCK].try_into().expect("a block of 32");
                let s = match w.ty {
                    WeightType::Q4_1 | WeightType::Q4F => isums_q4_1(q.try_into().expect("8 × 16 quant bytes"), xq),
                    WeightType::Q8_0 => isums_q8_0(q.try_into().expect("8 × 32 quant bytes"), xq),
                    WeightType::Q6K => {
                        let sc = (&tile[16..24], &tile[24..32]);
                        isums_q6k(q.try_into().expect("8 × 32 quant bytes"), xq, sc, (x.qsum_lo[xb], x.qsum[xb]))
                    }
                };
                for c in 0..8 {
                    let u = s[c] as f32 * (d[c] * x.d[xb]);
                    a[c] += if w.ty.has_offset() { u + m[c] * x.s[xb] } else { u };
                }
            }
        }
        for (rr, a) in acc.iter().enumerate().take(rt) {
            for (c, &v) in a.iter().enumerate() {
                // SAFETY: the caller owns columns j0..j0 + 8 of `out`.
                unsafe { out.set(r0 + rr, j0 + c, v) };
            }
        }
    }
}

/// The eight columns' exact Q4_1 block sums from a tile's quants (low nibbles: elements `4g + l`, high ones
/// `16 + 4g + l`): 32 lanes, lane `4c + l` summing column `c`'s bytes `4g + l`, then each column's four lanes
/// (integer sums: any order is exact; this one vectorises).
#[inline(always)]
fn isums_q4_1(q: &[u8; 128], xq: &[i8; BLOCK]) -> [i32; 8] {
    let mut t = [0i32; 32];
    for g in 0..4 {
        let lo: [i16; 32] = std::array::from_fn(|j| i16::from(xq[4 * g + j % 4]));
        let hi: [i16; 32] = std::array::from_fn(|j| i16::from(xq[16 + 4 * g + j % 4]));
        for j in 0..32 {
            // |pair| ≤ 2 · 15 · 128 fits i16 (16-bit multiplies vectorise on every SIMD ISA, even SSE2) and a
            // lane's sum of eight fits i32: the wrapping ops never wrap, they only spare the overflow checks
            // (`overflow-checks = true`) that would keep the loop scalar.
            let v = q[32 * g + j];
            let pair = i16::from(v & 15).wrapping_mul(lo[j]).wrapping_add(i16::from(v >> 4).wrapping_mul(hi[j]));
            t[j] = t[j].wrapping_add(i32::from(pair));
        }
    }
    lanes4(&t)
}

/// The eight columns' exact Q8_0 block sums from a tile's quants (as [`isums_q4_1`]).
#[inline(always)]
fn isums_q8_0(q: &[u8; 256], xq: &[i8; BLOCK]) -> [i32; 8] {
    let mut t = [0i32; 32];
    for g in 0..8 {
        let xa: [i16; 32] = std::array::from_fn(|j| i16::from(xq[4 * g + j % 4]));
        for j in 0..32 {
            // |product| ≤ 128 · 128 fits i16, a lane's sum of eight i32 (wrapping ops: as in `isums_q4_1`).
            t[j] = t[j].wrapping_add(i32::from(i16::from(q[32 * g + j] as i8).wrapping_mul(xa[j])));
        }
    }
    lanes4(&t)
}

/// The eight columns' exact Q6K block sums: unsigned half sums `U_lo`, `U_hi` of the quants (as
/// [`isums_q8_0`]), then `sc_lo × (U_lo − 32 X_lo) + sc_hi × (U_hi − 32 X_hi)` with the activation's half sums.
#[inline(always)]
fn isums_q6k(q: &[u8; 256], xq: &[i8; BLOCK], sc: (&[u8], &[u8]), (x_lo, x_all): (i32, i32)) -> [i32; 8] {
    let mut t = [[0i32; 32]; 2];
    for g in 0..8 {
        let xa: [i16; 32] = std::array::from_fn(|j| i16::from(xq[4 * g + j % 4]));
        for j in 0..32 {
            // |product| ≤ 63 · 128 fits i16, a lane's sum of four i32 (wrapping ops: as in `isums_q4_1`).
            t[g / 4][j] = t[g / 4][j].wrapping_add(i32::from(i16::from(q[32 * g + j]).wrapping_mul(xa[j])));
        }
    }
    let (lo, hi) = (lanes4(&t[0]), lanes4(&t[1]));
    let x_hi = x_all - x_lo;
    std::array::from_fn(|c| {
        i32::from(sc.0[c] as i8) * (lo[c] - 32 * x_lo) + i32::from(sc.1[c] as i8) * (hi[c] - 32 * x_hi)
    })
}

/// Column `c`'s sum: lanes `4c..4c + 4`.
#[inline(always)]
fn lanes4(t: &[i32; 32]) -> [i32; 8] {
    std::array::from_fn(|c| t[4 * c].wrapping_add(t[4 * c + 1]).wrapping_add(t[4 * c + 2]).wrapping_add(t[4 * c + 3]))
}
