//! GGUF (ggml) weight types of the spec (oracle/NUMERICS.md §2) taken into the kernels' block formats
//! ([`WeightType`]) without changing any value: Q4_1 and Q8_0 as stored, Q5_0 as Q8_0 (`q − 16` fits an i8),
//! Q4_K's 32-value sub-blocks as Q4F (its 6-bit scale and min multiplied into f32 scale and offset: an f16 times
//! a 6-bit integer is exact in f32), Q6_K's 32-value blocks as Q6K (the f16 super-block scale, the two 8-bit
//! sub-scales and the 6-bit quants as stored).
use crate::quant::{QuantError, WeightType, BLOCK};

/// GGUF type ids of the weight types the spec accepts.
pub const GGML_Q4_1: u32 = 3;
pub const GGML_Q5_0: u32 = 6;
pub const GGML_Q8_0: u32 = 8;
pub const GGML_Q4_K: u32 = 12;
pub const GGML_Q6_K: u32 = 14;

/// Values per K-quant super-block.
const SUPER: usize = 256;

/// Bytes of one GGUF block of `ggml_type` and the values it holds (None: not a type of the spec).
pub const fn gguf_block(ggml_type: u32) -> Option<(usize, usize)> {
    match ggml_type {
        GGML_Q4_1 => Some((20, BLOCK)),
        GGML_Q5_0 => Some((22, BLOCK)),
        GGML_Q8_0 => Some((34, BLOCK)),
        GGML_Q4_K => Some((144, SUPER)),
        GGML_Q6_K => Some((210, SUPER)),
        _ => None,
    }
}

/// `n` rows of `k` values of GGUF type `ggml_type` as blocks of the returned kernel format.
pub fn convert(ggml_type: u32, n: usize, k: usize, data: &[u8]) -> Result<(WeightType, Vec<u8>), QuantError> {
    let (bb, per) = gguf_block(ggml_type).ok_or(QuantError::Type(ggml_type))?;
    if per == SUPER && !k.is_multiple_of(SUPER) {
        return Err(QuantError::SuperBlock { ty: ggml_type, k });
    }
    if !k.is_multiple_of(BLOCK) || k == 0 {
        return Err(QuantError::Width(k));
    }
    let ty = match ggml_type {
        GGML_Q4_1 => WeightType::Q4_1,
        GGML_Q5_0 | GGML_Q8_0 => WeightType::Q8_0,
        GGML_Q4_K => WeightType::Q4F,
        _ => WeightType::Q6K,
    };
    let want = n * (k / per) * bb;
    if data.len() != want {
        return Err(QuantError::Size { ty, n, k, want, got: data.len() });
    }
    let out = match ggml_type {
        GGML_Q4_1 | GGML_Q8_0 => data.to_vec(),
        GGML_Q5_0 => data.chunks_exact(bb).flat_map(q5_0).collect(),
        GGML_Q4_K => data.chunks_exact(bb).flat_map(q4_k).collect(),
        _ => data.chunks_exact(bb).flat_map(q6_k).collect(),
    };
    Ok((ty, out))
}

/// Q5_0 `{ d: f16, qh: u32, qs: [u8; 16] }` (element i: low nibble of `qs[i % 16]` (high nibble for i ≥ 16),
/// fifth bit `qh >> i & 1`, minus 16) → a Q8_0 block `{ d, q }`.
fn q5_0(b: &[u8]) -> Vec<u8> {
    let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
    let qs = &b[6..22];
    let mut out = Vec::with_capacity(34);
    out.extend_from_slice(&b[..2]);
    for i in 0..BLOCK {
        let lo = if i < 16 { qs[i] & 15 } else { qs[i - 16] >> 4 };
        let v = i16::from(lo | (((qh >> i) & 1) as u8) << 4) - 16;
        out.push(v as i8 as u8);
    }
    out
}

/// Q4_K's scale and min of sub-block `j` (6 bits each, packed in 12 bytes; ggml's `get_scale_min_k4`).
fn scale_min_k4(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
    }
}

/// Q4_K `{ d: f16, dmin: f16, scales: [u8; 12], qs: [u8; 128] }` (sub-block `2c + h`, value `l`: nibble `h` of
/// `qs[32c + l]`; value `d·sc·q − dmin·min`) → eight Q4F blocks `{ d·sc, −(dmin·min), qs }` (both products exact).
fn q4_k(b: &[u8]) -> Vec<u8> {
    let (d, dmin) = (crate::quant::f16_at(b, 0), crate::quant::f16_at(b, 2));
    let (scales, qs) = (&b[4..16], &b[16..144]);
    let mut out = Vec::with_capacity(8 * 24);
    for j in 0..8 {
        let (sc, m) = scale_min_k4(j, scales);
        out.extend_from_slice(&(d * f32::from(sc)).to_le_bytes());
        out.extend_from_slice(&(-(dmin * f32::from(m))).to_le_bytes());
        let v = |l: usize| (qs[32 * (j / 2) + l] >> (4 * (j % 2))) & 15;
        for i in 0..16 {
            out.push(v(i) | v(16 + i) << 4);
        }
    }
    out
}

/// Q6_K `{ ql: [u8; 128], qh: [u8; 64], scales: [i8; 16], d: f16 }` (value e: 4 low bits from `ql`, 2 high
/// from `qh` as ggml's `dequantize_row_q6_K` lays them out, minus 32, times `d · scales[e / 16]`) → eight Q6K
/// blocks `{ d, [scales[2b], scales[2b + 1]], q }` with `q ∈ 0..64` (the −32 is the kernels' to take).
fn q6_k(b: &[u8]) -> Vec<u8> {
    let (ql, qh, scales) = (&b[..128], &b[128..192], &b[192..208]);
    let mut out = Vec::with_capacity(8 * 36);
    for blk in 0..8 {
        out.extend_from_slice(&b[208..210]);
        out.extend_from_slice(&[scales[2 * blk], scales[2 * blk + 1]]);
        let (half, quarter) = (blk / 4, blk % 4);
        for l in 0..BLOCK {
            let low = ql[64 * half + 32 * (quarter % 2) + l] >> (4 * (quarter / 2)) & 15;
            let high = (qh[32 * half + l] >> (2 * quarter)) & 3;
            out.push(low | high << 4);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::QMatrix;

    /// ggml's own dequantization of one Q6_K / Q4_K / Q5_0 row (transcribed from ggml-quants.c), in f32.
    fn ggml_dequant(ty: u32, b: &[u8]) -> Vec<f32> {
        let f16 = |at: usize| crate::quant::f16_at(b, at);
        let mut y = Vec::new();
        match ty {
            GGML_Q5_0 => {
                let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
                let mut v = [0f32; 32];
                for j in 0..16 {
                    let xh0 = (((qh >> j) << 4) & 0x10) as u8;
                    let xh1 = ((qh >> (j + 12)) & 0x10) as u8;
                    v[j] = f32::from(i16::from((b[6 + j] & 0x0F) | xh0) - 16) * f16(0);
                    v[j + 16] = f32::from(i16::from((b[6 + j] >> 4) | xh1) - 16) * f16(0);
                }
                y.extend_from_slice(&v);
            }
            GGML_Q4_K => {
                let (d, min) = (f16(0), f16(2));
                let q = &b[16..];
                for j in 0..4 {
                    let (sc, m) = scale_min_k4(2 * j, &b[4..16]);
                    let (d1, m1) = (d * f32::from(sc), min * f32::from(m));
                    let (sc, m) = scale_min_k4(2 * j + 1, &b[4..16]);
                    let (d2, m2) = (d * f32::from(sc), min * f32::from(m));
                    y.extend((0..32).map(|l| d1 * f32::from(q[32 * j + l] & 0xF) - m1));
                    y.extend((0..32).map(|l| d2 * f32::from(q[32 * j + l] >> 4) - m2));
                }
            }
            _ => {
                let d = f16(208);
                let mut v = [0f32; 256];
                for n in 0..2 {
                    let (ql, qh, sc) = (&b[64 * n..], &b[128 + 32 * n..], &b[192 + 8 * n..]);
                    for l in 0..32 {
                        let is = l / 16;
                        let q = |lo: u8, sh: u32| f32::from(i16::from(lo | ((qh[l] >> sh) & 3) << 4) - 32);
                        let s = |i: usize| f32::from(sc[is + i] as i8);
                        v[128 * n + l] = d * s(0) * q(ql[l] & 0xF, 0);
                        v[128 * n + l + 32] = d * s(2) * q(ql[l + 32] & 0xF, 2);
                        v[128 * n + l + 64] = d * s(4) * q(ql[l] >> 4, 4);
                        v[128 * n + l + 96] = d * s(6) * q(ql[l + 32] >> 4, 6);
                    }
                }
                y.extend_from_slice(&v);
            }
        }
        y
    }

    #[test]
    fn every_value_is_ggmls_own_dequantization_bit_for_bit() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut byte = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 56) as u8
        };
        for ty in [GGML_Q5_0, GGML_Q4_K, GGML_Q6_K] {
            let (bb, per) = gguf_block(ty).unwrap();
            let (n, k) = (11, 512);
            let mut data: Vec<u8> = (0..n * (k / per) * bb).map(|_| byte()).collect();
            // Finite, moderate f16 scales (bytes of random bits could be NaN or ∞).
            for blk in data.chunks_exact_mut(bb) {
                let at: &[usize] = match ty {
                    GGML_Q5_0 => &[0],
                    GGML_Q4_K => &[0, 2],
                    _ => &[208],
                };
                for &a in at {
                    blk[a + 1] &= 0x3b;
                }
            }
            let w = QMatrix::from_gguf(ty, n, k, &data).unwrap();
            let mut row = vec![0f32; k];
            for j in 0..n {
                w.dequantize_row(j, &mut row);
                let want: Vec<f32> = data[j * (k / per) * bb..][..(k / per) * bb]
                    .chunks_exact(bb)
                    .flat_map(|b| ggml_dequant(ty, b))
                    .collect();
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&row), bits(&want), "type {ty} row {j}");
            }
        }
    }

    #[test]
    fn bad_types_and_shapes_are_errors() {
        assert!(matches!(convert(2, 1, 32, &[0; 18]), Err(QuantError::Type(2))));
        assert!(matches!(convert(GGML_Q4_K, 1, 32, &[0; 144]), Err(QuantError::SuperBlock { .. })));
        assert!(matches!(convert(GGML_Q6_K, 1, 256, &[0; 209]), Err(QuantError::Size { .. })));
    }
}
