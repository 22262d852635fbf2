//! The spec's dot product written out element by element (NUMERICS.md §4), and a portable eight-column form of
//! the same operations.
use {
    super::Out,
    crate::quant::{Block, QActs, QMatrix, WeightType, BLOCK},
};

/// The exact integer sum of a block's quants `qs` with activation block `xq` (any order is exact).
#[inline(always)]
fn isum(ty: WeightType, qs: &[u8; BLOCK], xq: &[i8]) -> i32 {
    let mut s = 0i32;
    match ty {
        WeightType::Q4_1 => {
            for i in 0..16 {
                s += i32::from(qs[i] & 15) * i32::from(xq[i]) + i32::from(qs[i] >> 4) * i32::from(xq[16 + i]);
            }
        }
        WeightType::Q8_0 => {
            for i in 0..BLOCK {
                s += i32::from(qs[i] as i8) * i32::from(xq[i]);
            }
        }
    }
    s
}

/// One block's term (§4): Q4_1 `(f32(isum) × (d × dx)) + (m × sx)`, Q8_0 `f32(isum) × (d × dx)`.
#[inline(always)]
fn term(ty: WeightType, blk: &Block, x: &QActs, xb: usize) -> f32 {
    let s = isum(ty, &blk.qs, &x.q[xb * BLOCK..(xb + 1) * BLOCK]);
    let u = s as f32 * (blk.d * x.d[xb]);
    match ty {
        WeightType::Q4_1 => u + blk.m * x.s[xb],
        WeightType::Q8_0 => u,
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

/// Eight columns at once, blocks outermost within each pass of up to four rows (each weight block is read once
/// per pass); per element exactly [`dot`]'s operations.
pub(super) fn cols8_portable(w: &QMatrix, x: &QActs, j0: usize, out: Out) {
    let (nb, rows) = (w.blocks(), x.rows);
    for r0 in (0..rows).step_by(ROWS) {
        let rt = (rows - r0).min(ROWS);
        let mut acc = [[0f32; 8]; ROWS];
        for b in 0..nb {
            let blks: [Block; 8] = std::array::from_fn(|c| w.block(j0 + c, b));
            for (rr, a) in acc.iter_mut().enumerate().take(rt) {
                for (v, blk) in a.iter_mut().zip(&blks) {
                    *v += term(w.ty, blk, x, (r0 + rr) * nb + b);
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
