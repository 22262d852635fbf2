//! Quantized data of the spec (oracle/NUMERICS.md §2–3): GGUF weight blocks (Q4_1, Q8_0) as stored in the file,
//! and the Q8 quantization of activations, with the exact float operations the spec pins.
use {crate::matmul::Path, half::f16};

/// Elements per quantization block (weights and activations).
pub const BLOCK: usize = 32;

/// Weight block formats of the spec, with their GGUF (ggml) type ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightType {
    /// `{ d: f16, m: f16, qs: [u8; 16] }`: element j < 16 is `qs[j] & 15`, element 16 + j is `qs[j] >> 4`;
    /// value `d * q + m`.
    Q4_1,
    /// `{ d: f16, qs: [i8; 32] }`; value `d * q`.
    Q8_0,
}

impl WeightType {
    /// The spec's weight type of a GGUF tensor type id (None: not supported).
    pub fn from_ggml(id: u32) -> Option<WeightType> {
        match id {
            3 => Some(WeightType::Q4_1),
            8 => Some(WeightType::Q8_0),
            _ => None,
        }
    }

    /// Bytes of one block.
    pub const fn block_bytes(self) -> usize {
        match self {
            WeightType::Q4_1 => 20,
            WeightType::Q8_0 => 34,
        }
    }
}

/// Why weights could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum QuantError {
    #[error("row width {0} is not a multiple of {BLOCK}")]
    Width(usize),
    #[error("{ty:?} matrix {n}×{k} needs {want} bytes, got {got}")]
    Size { ty: WeightType, n: usize, k: usize, want: usize, got: usize },
}

/// A weight matrix of `n` output rows × `k` inputs. Its GGUF blocks are regrouped at load (the values are
/// untouched) so that the kernels hold one column per vector lane: columns in groups of eight, per group and
/// block one tile holding the eight f16 scales `d` (Q4_1: then the eight offsets `m`) in column order, then the
/// quants interleaved by four: byte `32·(i / 4) + 4·c + i % 4` is GGUF quant byte `i` of column `c` (Q4_1: 4
/// vectors of 32 bytes, the low nibble of byte i is element i, the high one element 16 + i; Q8_0: 8 vectors).
/// The last `n % 8` rows keep the GGUF layout. [`QMatrix::block`] reads any block back.
#[derive(Clone, Debug)]
pub struct QMatrix {
    pub ty: WeightType,
    pub n: usize,
    pub k: usize,
    /// Tiles of the full groups of eight columns: `[(group, block)]`, [`QMatrix::tile_bytes`] each.
    pub tiles: Vec<u8>,
    /// GGUF rows of the columns after the last full group.
    tail: Vec<u8>,
}

/// One weight block read back: scale, offset (Q4_1; 0 for Q8_0) and the GGUF quant bytes (the first 16 for
/// Q4_1, all 32 for Q8_0).
pub struct Block {
    pub d: f32,
    pub m: f32,
    pub qs: [u8; BLOCK],
}

impl WeightType {
    /// Bytes of the quants of one block.
    pub const fn quant_bytes(self) -> usize {
        match self {
            WeightType::Q4_1 => 16,
            WeightType::Q8_0 => 32,
        }
    }
}

/// Byte of a tile's quants that holds GGUF quant byte `i` of column `c`.
#[inline(always)]
const fn tile_at(c: usize, i: usize) -> usize {
    32 * (i / 4) + 4 * c + i % 4
}

impl QMatrix {
    /// Takes `n` GGUF rows of `k` values (`data` in the file's layout).
    pub fn new(ty: WeightType, n: usize, k: usize, data: Vec<u8>) -> Result<QMatrix, QuantError> {
        if !k.is_multiple_of(BLOCK) || k == 0 {
            return Err(QuantError::Width(k));
        }
        let (nb, bb) = (k / BLOCK, ty.block_bytes());
        let want = n * nb * bb;
        if data.len() != want {
            return Err(QuantError::Size { ty, n, k, want, got: data.len() });
        }
        let (n8, tb) = (n / 8 * 8, Self::tile_bytes_of(ty));
        let mut m = QMatrix { ty, n, k, tiles: vec![0; n8 / 8 * nb * tb], tail: Vec::new() };
        let (qb, scales) = (ty.quant_bytes(), Self::scale_bytes(ty));
        for j in 0..n8 {
            let (g, c) = (j / 8, j % 8);
            for b in 0..nb {
                let src = &data[(j * nb + b) * bb..][..bb];
                let tile = &mut m.tiles[(g * nb + b) * tb..][..tb];
                tile[2 * c..2 * c + 2].copy_from_slice(&src[..2]);
                if ty == WeightType::Q4_1 {
                    tile[16 + 2 * c..16 + 2 * c + 2].copy_from_slice(&src[2..4]);
                }
                for (i, &q) in src[bb - qb..].iter().enumerate() {
                    tile[scales + tile_at(c, i)] = q;
                }
            }
        }
        m.tail = data[n8 * nb * bb..].to_vec();
        Ok(m)
    }

    const fn scale_bytes(ty: WeightType) -> usize {
        match ty {
            WeightType::Q4_1 => 32,
            WeightType::Q8_0 => 16,
        }
    }

    const fn tile_bytes_of(ty: WeightType) -> usize {
        Self::scale_bytes(ty) + 8 * ty.quant_bytes()
    }

    /// Bytes of one tile (8 columns × 1 block).
    pub fn tile_bytes(&self) -> usize {
        Self::tile_bytes_of(self.ty)
    }

    /// Offset of the quants in a tile.
    pub fn tile_quants(&self) -> usize {
        Self::scale_bytes(self.ty)
    }

    /// Blocks per row.
    pub fn blocks(&self) -> usize {
        self.k / BLOCK
    }

    /// Block `b` of column (output row) `j`.
    #[inline(always)]
    pub fn block(&self, j: usize, b: usize) -> Block {
        let (nb, n8, qb) = (self.blocks(), self.n / 8 * 8, self.ty.quant_bytes());
        let mut qs = [0u8; BLOCK];
        if j < n8 {
            let tile = &self.tiles[((j / 8) * nb + b) * self.tile_bytes()..][..self.tile_bytes()];
            let c = j % 8;
            let m = if self.ty == WeightType::Q4_1 { f16_at(tile, 16 + 2 * c) } else { 0.0 };
            let quants = &tile[self.tile_quants()..];
            for (i, q) in qs[..qb].iter_mut().enumerate() {
                *q = quants[tile_at(c, i)];
            }
            Block { d: f16_at(tile, 2 * c), m, qs }
        } else {
            let bb = self.ty.block_bytes();
            let blk = &self.tail[((j - n8) * nb + b) * bb..][..bb];
            let m = if self.ty == WeightType::Q4_1 { f16_at(blk, 2) } else { 0.0 };
            qs[..qb].copy_from_slice(&blk[bb - qb..]);
            Block { d: f16_at(blk, 0), m, qs }
        }
    }

    /// Row `j` as f32 values (§2: `d * q` or `(d * q) + m`, one rounding per operation).
    pub fn dequantize_row(&self, j: usize, out: &mut [f32]) {
        for b in 0..self.blocks() {
            let Block { d, m, qs } = self.block(j, b);
            let o = &mut out[b * BLOCK..(b + 1) * BLOCK];
            match self.ty {
                WeightType::Q4_1 => {
                    for i in 0..16 {
                        o[i] = d * f32::from(qs[i] & 15) + m;
                        o[16 + i] = d * f32::from(qs[i] >> 4) + m;
                    }
                }
                WeightType::Q8_0 => {
                    for i in 0..BLOCK {
                        o[i] = d * f32::from(qs[i] as i8);
                    }
                }
            }
        }
    }
}

/// The f16 at byte `at` of `blk` (little-endian) as f32 (exact).
#[inline(always)]
pub fn f16_at(blk: &[u8], at: usize) -> f32 {
    f16::from_bits(u16::from_le_bytes([blk[at], blk[at + 1]])).to_f32()
}

/// Activations of `rows` rows × `k` quantized to Q8 blocks (§3): per block a scale `d`, 32 values `q`, their
/// integer sum and `s = d * f32(Σq)` (used by Q4_1's offset term).
#[derive(Clone, Debug, Default)]
pub struct QActs {
    pub rows: usize,
    pub k: usize,
    pub d: Vec<f32>,
    pub s: Vec<f32>,
    pub qsum: Vec<i32>,
    pub q: Vec<i8>,
}

impl QActs {
    /// Quantizes `x` (`rows × k`, row-major; `k` a multiple of 32).
    pub fn quantize(x: &[f32], rows: usize, k: usize) -> QActs {
        Self::quantize_by(x, rows, k, Path::Reference)
    }

    /// [`QActs::quantize`] with the element-wise code of kernel `path` (every path gives the same bits).
    pub fn quantize_by(x: &[f32], rows: usize, k: usize, path: Path) -> QActs {
        debug_assert_eq!(x.len(), rows * k);
        let nb = rows * (k / BLOCK);
        let mut a = QActs { rows, k, d: vec![0.0; nb], s: vec![0.0; nb], qsum: vec![0; nb], q: vec![0; rows * k] };
        for (b, (xb, qb)) in x.chunks_exact(BLOCK).zip(a.q.chunks_exact_mut(BLOCK)).enumerate() {
            let qb: &mut [i8; BLOCK] = qb.try_into().expect("a 32-element chunk");
            #[cfg(target_arch = "x86_64")]
            // SAFETY: a SIMD path is only chosen when the CPU has AVX2.
            let (d, sum) =
                if path.simd() { unsafe { crate::simd::quantize_block(xb, qb) } } else { quantize_block(xb, qb) };
            #[cfg(not(target_arch = "x86_64"))]
            let (d, sum) = quantize_block(xb, qb);
            a.d[b] = d;
            a.qsum[b] = sum;
            a.s[b] = d * sum as f32;
        }
        a
    }

    /// Blocks per row.
    pub fn blocks(&self) -> usize {
        self.k / BLOCK
    }
}

/// §3: `amax = max |x|`; if 0, all zero; else `d = amax / 127`, `id = 127 / amax`,
/// `q = clamp(round_ties_even(x * id), -127, 127)` (NaN → 0). Returns `(d, Σq)`.
#[inline]
pub fn quantize_block(x: &[f32], q: &mut [i8; BLOCK]) -> (f32, i32) {
    let mut amax = 0f32;
    for v in x {
        let a = v.abs();
        if a > amax {
            amax = a;
        }
    }
    if amax == 0.0 {
        *q = [0; BLOCK];
        return (0.0, 0);
    }
    let d = amax / 127.0;
    let id = 127.0 / amax;
    let mut sum = 0i32;
    for (qi, v) in q.iter_mut().zip(x) {
        let r = (v * id).round_ties_even().clamp(-127.0, 127.0) as i8;
        *qi = r;
        sum += i32::from(r);
    }
    (d, sum)
}
