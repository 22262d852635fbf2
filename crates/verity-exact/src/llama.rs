//! The forward pass of the spec (oracle/NUMERICS.md §6–7) for the llama family (llama; qwen2: q/k/v biases and
//! NEOX RoPE) on the GGUF's own quantized weights, for any mix of sequences: every token of every sequence is one row of each matrix product (whose elements do not
//! depend on the other rows), attention runs per sequence and head against that sequence's preallocated KV cache,
//! so a sequence's logits are the same bits alone or batched, prefilled at once or token by token.
use {
    crate::{
        math,
        matmul::{matmul, Path},
        quant::{QActs, QMatrix, QuantError},
    },
    rayon::prelude::*,
};

/// Architecture of the llama family: what differs in the one forward pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    /// RoPE on adjacent pairs, no biases.
    Llama,
    /// q/k/v biases; RoPE on the pairs `(i, i + D/2)` (NEOX).
    Qwen2,
}

impl Arch {
    /// The GGUF `general.architecture` name (also its metadata key prefix).
    pub fn name(self) -> &'static str {
        match self {
            Arch::Llama => "llama",
            Arch::Qwen2 => "qwen2",
        }
    }

    /// Whether q, k and v have biases.
    pub fn qkv_bias(self) -> bool {
        self == Arch::Qwen2
    }
}

/// Hyper-parameters (from GGUF metadata).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    pub arch: Arch,
    pub n_layer: usize,
    pub n_embd: usize,
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
    pub n_ff: usize,
    pub vocab: usize,
    /// Positions the RoPE table covers (prompt + output of one sequence).
    pub context: usize,
    pub eps: f32,
    pub rope_base: f32,
}

/// Why the model could not be built or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("tensor `{0}` missing")]
    Missing(String),
    #[error(
        "tensor `{name}` has GGUF type {ty}, which the exact profile does not support \
         (Q4_1, Q5_0, Q8_0, Q4_K, Q6_K; F32 for norms and biases)"
    )]
    Type { name: String, ty: u32 },
    #[error("tensor `{name}` has shape {got:?}, expected {want:?}")]
    Shape { name: String, got: Vec<usize>, want: Vec<usize> },
    #[error("tensor `{name}`: {source}")]
    Quant { name: String, source: QuantError },
    #[error("inconsistent model shape: {0}")]
    Config(String),
    #[error("token id {0} is outside the vocabulary")]
    Token(u32),
    #[error("sequence would exceed its cache of {0} positions")]
    CacheFull(usize),
}

/// One tensor as the GGUF stores it: ggml type id, dims (ggml order: fastest first) and raw bytes.
pub struct RawTensor {
    pub ggml_type: u32,
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

pub(crate) struct Layer {
    pub(crate) attn_norm: Vec<f32>,
    /// q, k, v biases (qwen2; empty otherwise).
    pub(crate) bias: [Vec<f32>; 3],
    pub(crate) wq: QMatrix,
    pub(crate) wk: QMatrix,
    pub(crate) wv: QMatrix,
    pub(crate) wo: QMatrix,
    pub(crate) ffn_norm: Vec<f32>,
    pub(crate) gate: QMatrix,
    pub(crate) up: QMatrix,
    pub(crate) down: QMatrix,
}

/// The model: immutable, shared by every sequence.
pub struct Llama {
    pub cfg: Config,
    pub(crate) embd: QMatrix,
    pub(crate) output: Option<QMatrix>,
    pub(crate) out_norm: Vec<f32>,
    pub(crate) layers: Vec<Layer>,
    pub(crate) cos: Vec<f32>,
    pub(crate) sin: Vec<f32>,
    path: Path,
}

/// One sequence's KV cache, preallocated for its whole length: per layer `[pos][n_kv_head × head_dim]`.
pub struct Cache {
    k: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
    len: usize,
    cap: usize,
}

impl Cache {
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Llama {
    /// Builds the model from `get(name)` (None: absent) with kernel `path`.
    pub fn new(cfg: Config, path: Path, mut get: impl FnMut(&str) -> Option<RawTensor>) -> Result<Llama, ModelError> {
        let Config { n_embd: e, n_head, n_kv_head, head_dim, n_ff, .. } = cfg;
        if n_head == 0 || n_kv_head == 0 || n_head % n_kv_head != 0 || head_dim * n_head != e || head_dim % 2 != 0 {
            return Err(ModelError::Config(format!("{n_head} heads, {n_kv_head} kv heads, {e} wide")));
        }
        let kv = n_kv_head * head_dim;
        let mut mat = |name: &str, n: usize, k: usize| -> Result<QMatrix, ModelError> {
            let t = get(name).ok_or_else(|| ModelError::Missing(name.into()))?;
            if t.dims != [k, n] {
                return Err(ModelError::Shape { name: name.into(), got: t.dims, want: vec![k, n] });
            }
            QMatrix::from_gguf(t.ggml_type, n, k, &t.data).map_err(|source| match source {
                QuantError::Type(ty) => ModelError::Type { name: name.into(), ty },
                source => ModelError::Quant { name: name.into(), source },
            })
        };
        let embd = mat("token_embd.weight", cfg.vocab, e)?;
        let output = match mat("output.weight", cfg.vocab, e) {
            Ok(m) => Some(m),
            Err(ModelError::Missing(_)) => None, // tied to the embeddings
            Err(err) => return Err(err),
        };
        let mut layers = Vec::with_capacity(cfg.n_layer);
        for i in 0..cfg.n_layer {
            let p = |n: &str| format!("blk.{i}.{n}.weight");
            layers.push(Layer {
                attn_norm: Vec::new(),
                bias: Default::default(),
                wq: mat(&p("attn_q"), e, e)?,
                wk: mat(&p("attn_k"), kv, e)?,
                wv: mat(&p("attn_v"), kv, e)?,
                wo: mat(&p("attn_output"), e, e)?,
                ffn_norm: Vec::new(),
                gate: mat(&p("ffn_gate"), n_ff, e)?,
                up: mat(&p("ffn_up"), n_ff, e)?,
                down: mat(&p("ffn_down"), e, n_ff)?,
            });
        }
        let mut vector = |name: String, len: usize| -> Result<Vec<f32>, ModelError> {
            let t = get(&name).ok_or_else(|| ModelError::Missing(name.clone()))?;
            if t.ggml_type != 0 {
                return Err(ModelError::Type { name, ty: t.ggml_type });
            }
            if t.dims != [len] || t.data.len() != 4 * len {
                return Err(ModelError::Shape { name, got: t.dims, want: vec![len] });
            }
            Ok(t.data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
        };
        for (i, l) in layers.iter_mut().enumerate() {
            l.attn_norm = vector(format!("blk.{i}.attn_norm.weight"), e)?;
            l.ffn_norm = vector(format!("blk.{i}.ffn_norm.weight"), e)?;
            if cfg.arch.qkv_bias() {
                let b = |n: &str| format!("blk.{i}.attn_{n}.bias");
                l.bias = [vector(b("q"), e)?, vector(b("k"), kv)?, vector(b("v"), kv)?];
            }
        }
        let out_norm = vector("output_norm.weight".into(), e)?;
        let (cos, sin) = math::rope_tables(cfg.rope_base, head_dim, cfg.context);
        Ok(Llama { cfg, embd, output, out_norm, layers, cos, sin, path })
    }

    /// The kernel path in use.
    pub fn path(&self) -> Path {
        self.path
    }

    /// An empty cache for a sequence of at most `positions` tokens (prompt + output).
    pub fn new_cache(&self, positions: usize) -> Result<Cache, ModelError> {
        if positions > self.cfg.context {
            return Err(ModelError::CacheFull(self.cfg.context));
        }
        let kv = self.cfg.n_kv_head * self.cfg.head_dim * positions;
        let per_layer = || (0..self.cfg.n_layer).map(|_| Vec::with_capacity(kv)).collect();
        Ok(Cache { k: per_layer(), v: per_layer(), len: 0, cap: positions })
    }

    /// Runs `seqs[i]` (one or more new tokens each) through the model, appending to `caches[i]`; returns the
    /// logits of each sequence's last new token.
    pub fn forward(&self, seqs: &[&[u32]], caches: &mut [&mut Cache]) -> Result<Vec<Vec<f32>>, ModelError> {
        let c = self.cfg;
        let e = c.n_embd;
        for (s, cache) in seqs.iter().zip(caches.iter()) {
            if cache.len + s.len() > cache.cap {
                return Err(ModelError::CacheFull(cache.cap));
            }
            if let Some(&t) = s.iter().find(|&&t| t as usize >= c.vocab) {
                return Err(ModelError::Token(t));
            }
        }
        // Row r belongs to sequence seq_of[r] at position pos_of[r].
        let mut seq_of = Vec::new();
        let mut pos_of = Vec::new();
        for (i, s) in seqs.iter().enumerate() {
            for j in 0..s.len() {
                seq_of.push(i);
                pos_of.push(caches[i].len + j);
            }
        }
        let rows = seq_of.len();
        let mut x = vec![0f32; rows * e];
        for (r, &t) in seqs.iter().flat_map(|s| s.iter()).enumerate() {
            self.embd.dequantize_row(t as usize, &mut x[r * e..(r + 1) * e]);
        }
        let mut h = vec![0f32; rows * e];
        for (li, l) in self.layers.iter().enumerate() {
            norm_rows(&x, &l.attn_norm, c.eps, e, &mut h);
            let hq = self.quantize(&h, rows, e);
            let mut qkv = [self.mm(&l.wq, &hq), self.mm(&l.wk, &hq), self.mm(&l.wv, &hq)];
            for (out, bias) in qkv.iter_mut().zip(&l.bias).filter(|(_, b)| !b.is_empty()) {
                out.chunks_exact_mut(bias.len()).for_each(|row| row.iter_mut().zip(bias).for_each(|(a, b)| *a += b));
            }
            let [mut q, mut k, v] = qkv;
            let kvw = c.n_kv_head * c.head_dim;
            let rope = match c.arch {
                Arch::Llama => math::rope,
                Arch::Qwen2 => math::rope_neox,
            };
            for r in 0..rows {
                let half = c.head_dim / 2;
                let (cos, sin) = (&self.cos[pos_of[r] * half..][..half], &self.sin[pos_of[r] * half..][..half]);
                q[r * e..(r + 1) * e].chunks_exact_mut(c.head_dim).for_each(|hd| rope(hd, cos, sin));
                k[r * kvw..(r + 1) * kvw].chunks_exact_mut(c.head_dim).for_each(|hd| rope(hd, cos, sin));
            }
            for r in 0..rows {
                let cache = &mut caches[seq_of[r]];
                cache.k[li].extend_from_slice(&k[r * kvw..(r + 1) * kvw]);
                cache.v[li].extend_from_slice(&v[r * kvw..(r + 1) * kvw]);
            }
            let att = self.attention(li, &q, &seq_of, &pos_of, caches);
            let o = self.mm(&l.wo, &self.quantize(&att, rows, e));
            x.iter_mut().zip(&o).for_each(|(a, b)| *a += b);
            norm_rows(&x, &l.ffn_norm, c.eps, e, &mut h);
            let hq = self.quantize(&h, rows, e);
            let gate = self.mm(&l.gate, &hq);
            let up = self.mm(&l.up, &hq);
            let mut act = vec![0f32; gate.len()];
            math::silu_mul(&gate, &up, &mut act, self.path);
            let down = self.mm(&l.down, &self.quantize(&act, rows, c.n_ff));
            x.iter_mut().zip(&down).for_each(|(a, b)| *a += b);
        }
        for (cache, s) in caches.iter_mut().zip(seqs) {
            cache.len += s.len();
        }
        // Only each sequence's last row goes through the head.
        let mut last = Vec::with_capacity(seqs.len() * e);
        let mut r = 0;
        for s in seqs {
            r += s.len();
            let mut n = vec![0f32; e];
            math::rms_norm(&x[(r - 1) * e..r * e], &self.out_norm, c.eps, &mut n);
            last.extend_from_slice(&n);
        }
        let head = self.output.as_ref().unwrap_or(&self.embd);
        let logits = self.mm(head, &self.quantize(&last, seqs.len(), e));
        Ok(logits.chunks_exact(head.n).map(<[f32]>::to_vec).collect())
    }

    fn quantize(&self, x: &[f32], rows: usize, k: usize) -> QActs {
        QActs::quantize_by(x, rows, k, self.path)
    }

    fn mm(&self, w: &QMatrix, x: &QActs) -> Vec<f32> {
        let mut out = vec![0f32; x.rows * w.n];
        matmul(w, x, &mut out, self.path);
        out
    }

    /// Causal attention of every row's query heads against its sequence's cache up to its own position
    /// (§6.4): one task per (row, head), each computed whole.
    fn attention(&self, li: usize, q: &[f32], seq_of: &[usize], pos_of: &[usize], caches: &[&mut Cache]) -> Vec<f32> {
        let c = self.cfg;
        let (hd, group, kvw) = (c.head_dim, c.n_head / c.n_kv_head, c.n_kv_head * c.head_dim);
        let scale = 1.0 / (hd as f32).sqrt();
        let mut out = vec![0f32; q.len()];
        out.par_chunks_mut(hd).enumerate().for_each(|(i, o)| {
            let (r, h) = (i / c.n_head, i % c.n_head);
            let cache = &caches[seq_of[r]];
            let (keys, vals) = (&cache.k[li], &cache.v[li]);
            let qh = &q[r * c.n_embd + h * hd..][..hd];
            let kv_off = (h / group) * hd;
            let n = pos_of[r] + 1;
            let mut scores: Vec<f32> =
                (0..n).map(|t| math::dot8(qh, &keys[t * kvw + kv_off..][..hd]) * scale).collect();
            math::softmax_by(&mut scores, self.path);
            for (t, p) in scores.iter().enumerate() {
                let vt = &vals[t * kvw + kv_off..][..hd];
                for (a, b) in o.iter_mut().zip(vt) {
                    *a += p * b;
                }
            }
        });
        out
    }
}

/// RMSNorm of each row of `x` (width `e`) into `out`.
fn norm_rows(x: &[f32], g: &[f32], eps: f32, e: usize, out: &mut [f32]) {
    for (xr, or) in x.chunks_exact(e).zip(out.chunks_exact_mut(e)) {
        math::rms_norm(xr, g, eps, or);
    }
}

pub use crate::load::{load, LoadError};

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config {
            arch: Arch::Llama,
            n_layer: 1,
            n_embd: 64,
            n_head: 2,
            n_kv_head: 1,
            head_dim: 32,
            n_ff: 64,
            vocab: 8,
            context: 16,
            eps: 1e-5,
            rope_base: 10000.0,
        }
    }

    /// A tensor of `ty` (ggml id) with `dims` and the right byte count for Q4_1/Q8_0/F32.
    fn raw(ty: u32, dims: &[usize]) -> RawTensor {
        let n: usize = dims.iter().product();
        let len = match ty {
            0 => 4 * n,
            3 => n / 32 * 20,
            8 => n / 32 * 34,
            _ => n / 32 * 18,
        };
        RawTensor { ggml_type: ty, dims: dims.to_vec(), data: vec![0; len] }
    }

    fn tensors(embd_type: u32) -> impl FnMut(&str) -> Option<RawTensor> {
        move |name: &str| {
            let c = cfg();
            let kv = c.n_kv_head * c.head_dim;
            Some(match name {
                "token_embd.weight" => raw(embd_type, &[c.n_embd, c.vocab]),
                "output.weight" => return None,
                n if n.ends_with("norm.weight") => raw(0, &[c.n_embd]),
                n if n.contains("attn_k") || n.contains("attn_v") => raw(3, &[c.n_embd, kv]),
                n if n.contains("ffn_down") => raw(3, &[c.n_ff, c.n_embd]),
                n if n.contains("ffn_") => raw(3, &[c.n_embd, c.n_ff]),
                _ => raw(3, &[c.n_embd, c.n_embd]),
            })
        }
    }

    #[test]
    fn a_small_model_runs_and_bad_input_gets_clear_errors() {
        let m = Llama::new(cfg(), Path::Reference, tensors(8)).expect("builds");
        let mut c = m.new_cache(4).unwrap();
        let logits = m.forward(&[&[1, 2]], &mut [&mut c]).unwrap();
        assert_eq!(logits[0].len(), 8);
        assert!(matches!(m.forward(&[&[9]], &mut [&mut c]), Err(ModelError::Token(9))));
        assert!(matches!(m.forward(&[&[1, 1, 1]], &mut [&mut c]), Err(ModelError::CacheFull(4))));
        assert!(matches!(m.new_cache(17), Err(ModelError::CacheFull(16))));
        // Q4_0 (GGUF type 2) is not a type of the spec.
        match Llama::new(cfg(), Path::Reference, tensors(2)) {
            Err(e @ ModelError::Type { ty: 2, .. }) => assert!(e.to_string().contains("token_embd.weight"), "{e}"),
            other => panic!("expected a type error, got {:?}", other.err()),
        }
        let mut wrong = tensors(8);
        let bad = Llama::new(cfg(), Path::Reference, |n| {
            if n == "blk.0.attn_q.weight" {
                Some(raw(3, &[64, 32]))
            } else {
                wrong(n)
            }
        });
        assert!(matches!(bad, Err(ModelError::Shape { .. })));
    }

    #[test]
    fn a_truncated_or_foreign_file_is_an_error_not_a_panic() {
        assert!(matches!(load(b"GGUF", 16, Path::Reference), Err(LoadError::Gguf(_))));
        assert!(matches!(load(b"nope nope nope", 16, Path::Reference), Err(LoadError::Gguf(_))));
    }
}
