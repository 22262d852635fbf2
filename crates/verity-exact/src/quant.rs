//! Quantized data of the spec (oracle/NUMERICS.md §2–3): weight blocks in the kernels' four formats (GGUF's
//! Q4_1 / Q8_0 as stored, Q5_0 / Q4_K / Q6_K taken exactly by [`crate::ggml`]) and the Q8 quantization of
//! activations, with the exact float operations the spec pins.
use {crate::matmul::Path, half::f16};

/// Elements per quantization block (weights and activations).
pub const BLOCK: usize = 32;

/// Weight block formats of the kernels (each GGUF type of the spec is taken into one of them at load, exactly:
/// [`crate::ggml`]), blocks of 32 values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightType {
    /// `{ d: f16, m: f16, qs: [u8; 16] }`: element j < 16 is `qs[j] & 15`, element 16 + j is `qs[j] >> 4`;
    /// value `(d × q) + m` (GGUF Q4_1 as stored).
    Q4_1,
    /// `{ d: f16, qs: [i8; 32] }`; value `d × q` (GGUF Q8_0 as stored; GGUF Q5_0 taken exactly).
    Q8_0,
    /// Q4_1 with f32 scale and offset, `{ d: f32, m: f32, qs: [u8; 16] }` (GGUF Q4_K's sub-blocks taken exactly:
    /// `d = d_K × sc`, `m = −(dmin_K × min)`, both exact in f32).
    Q4F,
    /// `{ d: f16, sc: [i8; 2], qs: [u8; 32] }` (GGUF Q6_K's 32-value blocks): `q_i ∈ 0..64`, element i has the
    /// integer weight `sc[i / 16] × (q_i − 32)`; value `(d × f32(sc[i / 16])) × f32(q_i − 32)`.
    Q6K,
}

impl WeightType {
    /// Bytes of one block.
    pub const fn block_bytes(self) -> usize {
        Self::head_bytes(self) + self.quant_bytes()
    }

    /// Bytes before the quants in a block: scales (and offset).
    pub const fn head_bytes(self) -> usize {
        match self {
            WeightType::Q4_1 | WeightType::Q6K => 4,
            WeightType::Q8_0 => 2,
            WeightType::Q4F => 8,
        }
    }

    /// Bytes of the quants of one block.
    pub const fn quant_bytes(self) -> usize {
        match self {
            WeightType::Q4_1 | WeightType::Q4F => 16,
            WeightType::Q8_0 | WeightType::Q6K => 32,
        }
    }

    /// Whether the block has an offset term (`m × s^x`).
    pub const fn has_offset(self) -> bool {
        matches!(self, WeightType::Q4_1 | WeightType::Q4F)
    }
}

/// Why weights could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum QuantError {
    #[error("row width {0} is not a multiple of {BLOCK}")]
    Width(usize),
    #[error("{ty:?} matrix {n}×{k} needs {want} bytes, got {got}")]
    Size { ty: WeightType, n: usize, k: usize, want: usize, got: usize },
    #[error("GGUF type {0} is not a weight type of the exact profile")]
    Type(u32),
    #[error("GGUF type {ty} needs rows of a multiple of 256 values, got {k}")]
    SuperBlock { ty: u32, k: usize },
}

/// A weight matrix of `n` output rows × `k` inputs. Its blocks are regrouped at load (the values are untouched)
/// so that the kernels hold one column per vector lane: columns in groups of eight, per group and block one tile
/// holding the eight columns' scales `d` in column order (f16, or f32 for Q4F), then Q4_1 / Q4F's eight offsets
/// `m` or Q6K's eight `sc[0]` then eight `sc[1]` (i8), then the quants interleaved by four: byte
/// `32·(i / 4) + 4·c + i % 4` is quant byte `i` of column `c` (4-bit types: 4 vectors of 32 bytes, the low nibble
/// of byte i is element i, the high one element 16 + i; 8-bit types: 8 vectors). The last `n % 8` rows keep the
/// block layout of [`WeightType`]. [`QMatrix::block`] reads any block back.
#[derive(Clone, Debug)]
pub struct QMatrix {
    pub ty: WeightType,
    pub n: usize,
    pub k: usize,
    /// Tiles of the full groups of eight columns: `[(group, block)]`, [`QMatrix::tile_bytes`] each.
    pub tiles: Vec<u8>,
    /// Blocks of the columns after the last full group.
    tail: Vec<u8>,
}

/// One weight block read back: scale, offset (0 without one), Q6K's sub-scales (`[1, 1]` otherwise) and the
/// quant bytes (the first 16 for 4-bit types).
pub struct Block {
    pub d: f32,
    pub m: f32,
    pub sc: [i8; 2],
    pub qs: [u8; BLOCK],
}

/// Byte of a tile's quants that holds quant byte `i` of column `c`.
#[inline(always)]
const fn tile_at(c: usize, i: usize) -> usize {
    32 * (i / 4) + 4 * c + i % 4
}

impl QMatrix {
    /// Takes `n` rows of `k` values given as GGUF tensor data of type `ggml_type` (converted exactly).
    pub fn from_gguf(ggml_type: u32, n: usize, k: usize, data: &[u8]) -> Result<QMatrix, QuantError> {
        let (ty, blocks) = crate::ggml::convert(ggml_type, n, k, data)?;
        QMatrix::new(ty, n, k, blocks)
    }

    /// Takes `n` rows of `k` values as blocks of `ty` ([`WeightType`]'s layouts; Q4_1 and Q8_0 are GGUF's).
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
                match ty {
                    WeightType::Q4_1 => {
                        tile[2 * c..2 * c + 2].copy_from_slice(&src[..2]);
                        tile[16 + 2 * c..16 + 2 * c + 2].copy_from_slice(&src[2..4]);
                    }
                    WeightType::Q8_0 => tile[2 * c..2 * c + 2].copy_from_slice(&src[..2]),
                    WeightType::Q4F => {
                        tile[4 * c..4 * c + 4].copy_from_slice(&src[..4]);
                        tile[32 + 4 * c..32 + 4 * c + 4].copy_from_slice(&src[4..8]);
                    }
                    WeightType::Q6K => {
                        tile[2 * c..2 * c + 2].copy_from_slice(&src[..2]);
                        tile[16 + c] = src[2];
                        tile[24 + c] = src[3];
                    }
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
            WeightType::Q4_1 | WeightType::Q6K => 32,
            WeightType::Q8_0 => 16,
            WeightType::Q4F => 64,
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
        let mut blk = Block { d: 0.0, m: 0.0, sc: [1, 1], qs: [0u8; BLOCK] };
        if j < n8 {
            let tile = &self.tiles[((j / 8) * nb + b) * self.tile_bytes()..][..self.tile_bytes()];
            let c = j % 8;
            match self.ty {
                WeightType::Q4_1 => (blk.d, blk.m) = (f16_at(tile, 2 * c), f16_at(tile, 16 + 2 * c)),
                WeightType::Q8_0 => blk.d = f16_at(tile, 2 * c),
                WeightType::Q4F => (blk.d, blk.m) = (f32_at(tile, 4 * c), f32_at(tile, 32 + 4 * c)),
                WeightType::Q6K => (blk.d, blk.sc) = (f16_at(tile, 2 * c), [tile[16 + c] as i8, tile[24 + c] as i8]),
            }
            let quants = &tile[self.tile_quants()..];
            for (i, q) in blk.qs[..qb].iter_mut().enumerate() {
                *q = quants[tile_at(c, i)];
            }
        } else {
            let bb = self.ty.block_bytes();
            let src = &self.tail[((j - n8) * nb + b) * bb..][..bb];
            match self.ty {
                WeightType::Q4_1 => (blk.d, blk.m) = (f16_at(src, 0), f16_at(src, 2)),
                WeightType::Q8_0 => blk.d = f16_at(src, 0),
                WeightType::Q4F => (blk.d, blk.m) = (f32_at(src, 0), f32_at(src, 4)),
                WeightType::Q6K => (blk.d, blk.sc) = (f16_at(src, 0), [src[2] as i8, src[3] as i8]),
            }
            blk.qs[..qb].copy_from_slice(&src[bb - qb..]);
        }
        blk
    }

    /// Row `j` as f32 values (NUMERICS.md §2, one rounding per operation).
    pub fn dequantize_row(&self, j: usize, out: &mut [f32]) {
        for b in 0..self.blocks() {
            let Block { d, m, sc, qs } = self.block(j, b);
            let o = &mut out[b * BLOCK..(b + 1) * BLOCK];
            match self.ty {
                WeightType::Q4_1 | WeightType::Q4F => {
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
                WeightType::Q6K => {
                    for i in 0..BLOCK {
                        o[i] = (d * f32::from(sc[i / 16])) * f32::from(i16::from(qs[i]) - 32);
                    }
                }
            }
        }
    }
}

/// The f32 at byte `at` of `blk` (little-endian).
#[inline(always)]
pub fn f32_at(blk: &[u8], at: usize) -> f32 {
    f32::from_le_bytes([blk[at], blk[at + 1], blk[at + 2], blk[at + 3]])
}

/// The f16 at byte `at` of `blk` (little-endian) as f32 (exact).
#[inline(always)]
pub fn f16_at(blk: &[u8], at: usize) -> f32 {
    f16::from_bits(u16::from_le_bytes([blk[at], blk[at + 1]])).to_f32()
}

/// Activations of `rows` rows × `k` quantized to Q8 blocks (§3): per block a scale `d`, 32 values `q`, their
/// integer sum and `s = d * f32(Σq)` (used by the offset term of Q4_1 / Q4F).
#[derive(Clone, Debug, Default)]
pub struct QActs {
    pub rows: usize,
    pub k: usize,
    pub d: Vec<f32>,
    pub s: Vec<f32>,
    pub qsum: Vec<i32>,
    /// Integer sum of each block's first 16 values (Q6K's offset of 32 on its first half).
    pub qsum_lo: Vec<i32>,
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
        let mut a = QActs {
            rows,
            k,
            d: vec![0.0; nb],
            s: vec![0.0; nb],
            qsum: vec![0; nb],
            qsum_lo: vec![0; nb],
            q: vec![0; rows * k],
        };
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
            a.qsum_lo[b] = qb[..16].iter().map(|&v| i32::from(v)).sum();
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
