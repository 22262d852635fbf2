//! The spec's dot product written out element by element (NUMERICS.md §4), and a portable eight-column form of
//! the same operations.
use crate::quant::{QActs, QMatrix, WeightType, BLOCK};

/// The exact integer sum of a block's quants `qs` with activation block `xq` (any order is exact).
#[inline(always)]
fn isum(ty: WeightType, qs: &[u8], xq: &[i8]) -> i32 {
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
fn term(w: &QMatrix, j: usize, b: usize, x: &QActs, xb: usize) -> f32 {
    let blk = w.block(j, b);
    let s = isum(w.ty, blk.qs, &x.q[xb * BLOCK..(xb + 1) * BLOCK]);
    let u = s as f32 * (blk.d * x.d[xb]);
    match w.ty {
        WeightType::Q4_1 => u + blk.m * x.s[xb],
        WeightType::Q8_0 => u,
    }
}

/// `dot(w[j], x[r])`: `acc = +0; for each block b in order: acc = acc + term_b`.
pub fn dot(w: &QMatrix, j: usize, x: &QActs, r: usize) -> f32 {
    let nb = w.blocks();
    let mut acc = 0f32;
    for b in 0..nb {
        acc += term(w, j, b, x, r * nb + b);
    }
    acc
}

/// `out_t[c * rows + r] = dot(w[j0 + c], x[r])` for `c < ncols`, element by element.
pub fn cols(w: &QMatrix, x: &QActs, j0: usize, ncols: usize, out_t: &mut [f32]) {
    for c in 0..ncols {
        for r in 0..x.rows {
            out_t[c * x.rows + r] = dot(w, j0 + c, x, r);
        }
    }
}

/// Eight columns at once, blocks outermost (each weight block is read once per call and reused for every row);
/// per element exactly [`dot`]'s operations.
pub fn cols8_portable(w: &QMatrix, x: &QActs, j0: usize, out_t: &mut [f32]) {
    let (nb, rows) = (w.blocks(), x.rows);
    let mut acc = vec![[0f32; 8]; rows];
    for b in 0..nb {
        for (r, a) in acc.iter_mut().enumerate() {
            for (c, v) in a.iter_mut().enumerate() {
                *v += term(w, j0 + c, b, x, r * nb + b);
            }
        }
    }
    for (r, a) in acc.iter().enumerate() {
        for c in 0..8 {
            out_t[c * rows + r] = a[c];
        }
    }
}
