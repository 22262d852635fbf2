//! Llama forward pass over GGUF weights with per-sequence KV caches and batched decode steps.
//!
//! A forward call takes one or more sequences (one token each when decoding). Linear layers run once over
//! all of their rows; attention runs per sequence against that sequence's own KV cache, so no padding ever
//! enters a sum. The engine only fuses sequences when `batch_invariant_decode` holds.

use super::profile::Dtype;
use candle_core::quantized::{gguf_file::Content, QMatMul, QTensor};
use candle_core::{DType, Device, IndexOp, Module, Result, Tensor};
use std::sync::Arc;

/// A weight matrix `(out, in)`: f32 on CPU (own batch-invariant kernel), f32 on another device
/// (candle matmul), or native quantized.
#[derive(Debug, Clone)]
enum Linear {
    CpuF32 { w: Arc<Vec<f32>>, n: usize, k: usize },
    Dense(Tensor),
    Quant(QMatMul),
}

impl Linear {
    fn load(q: QTensor, dtype: Dtype, dev: &Device) -> Result<Self> {
        Ok(match dtype {
            Dtype::F32 if dev.is_cpu() => {
                let t = q.dequantize(dev)?;
                let (n, k) = t.dims2()?;
                Linear::CpuF32 { w: Arc::new(t.flatten_all()?.to_vec1::<f32>()?), n, k }
            }
            Dtype::F32 => Linear::Dense(q.dequantize(dev)?),
            // Constructed directly so that CANDLE_DEQUANTIZE_ALL cannot silently change the profile.
            Dtype::Q4_1 => Linear::Quant(QMatMul::QTensor(Arc::new(q))),
            Dtype::Exact => candle_core::bail!("the exact profile has its own engine (inference::backend), not candle"),
        })
    }

    /// `x: (rows, in)` → `(rows, out)`.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Linear::CpuF32 { w, n, k } => {
                let (rows, kx) = x.dims2()?;
                if kx != *k {
                    candle_core::bail!("linear: input width {kx}, weight width {k}");
                }
                let xv = x.flatten_all()?.to_vec1::<f32>()?;
                let out = super::kernel::matmul_xwt(&xv, rows, w, *n, *k);
                Tensor::from_vec(out, (rows, *n), x.device())
            }
            Linear::Dense(w) => x.matmul(&w.t()?),
            Linear::Quant(q) => q.forward(x),
        }
    }
}

#[derive(Debug, Clone)]
struct Layer {
    attn_norm: Tensor,
    wq: Linear,
    wk: Linear,
    wv: Linear,
    wo: Linear,
    ffn_norm: Tensor,
    w_gate: Linear,
    w_up: Linear,
    w_down: Linear,
}

/// Hyper-parameters read from GGUF metadata.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    pub n_layer: usize,
    pub n_embd: usize,
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
    pub vocab: usize,
    pub context: usize,
    pub eps: f32,
}

/// The immutable model: shared by every sequence the engine serves.
#[derive(Debug)]
pub struct Model {
    pub cfg: Config,
    embed: Tensor,
    layers: Vec<Layer>,
    norm: Tensor,
    output: Linear,
    cos: Tensor,
    sin: Tensor,
    device: Device,
}

/// One sequence's attention cache: per layer `(k, v)` of shape `(1, n_kv_head, len, head_dim)`.
#[derive(Debug, Default)]
pub struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
}

impl KvCache {
    pub fn len(&self) -> usize {
        match self.layers.first() {
            Some(Some((k, _))) => k.dim(2).unwrap_or(0),
            _ => 0,
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn md_u32(ct: &Content, k: &str) -> Result<usize> {
    match ct.metadata.get(k) {
        Some(v) => Ok(v.to_u32()? as usize),
        None => candle_core::bail!("GGUF metadata key `{k}` missing"),
    }
}

impl Model {
    /// Load a llama GGUF. `max_context` caps the RoPE table (and thus prompt + output length).
    pub fn load<R: std::io::Read + std::io::Seek>(
        ct: &Content,
        r: &mut R,
        dtype: Dtype,
        max_context: usize,
        dev: &Device,
    ) -> Result<Self> {
        let arch = ct.metadata.get("general.architecture").and_then(|v| v.to_string().ok());
        if arch.map(String::as_str) != Some("llama") {
            candle_core::bail!("unsupported GGUF architecture {arch:?} (expected llama)");
        }
        let n_head = md_u32(ct, "llama.attention.head_count")?;
        let n_embd = md_u32(ct, "llama.embedding_length")?;
        let eps = match ct.metadata.get("llama.attention.layer_norm_rms_epsilon") {
            Some(v) => v.to_f32()?,
            None => candle_core::bail!("GGUF metadata key `llama.attention.layer_norm_rms_epsilon` missing"),
        };
        let rope_base = ct.metadata.get("llama.rope.freq_base").map(|v| v.to_f32()).transpose()?.unwrap_or(10000.);
        let head_dim = n_embd / n_head.max(1);
        let cfg = Config {
            n_layer: md_u32(ct, "llama.block_count")?,
            n_embd,
            n_head,
            n_kv_head: md_u32(ct, "llama.attention.head_count_kv")?,
            head_dim,
            vocab: 0,
            context: md_u32(ct, "llama.context_length")?.min(max_context),
            eps,
        };
        if n_head == 0 || cfg.n_kv_head == 0 || n_head % cfg.n_kv_head != 0 || head_dim * n_head != n_embd {
            candle_core::bail!("inconsistent attention shape in GGUF metadata");
        }
        let mut get = |name: &str| ct.tensor(r, name, dev);
        let embed_q = get("token_embd.weight")?;
        let embed = embed_q.dequantize(dev)?;
        let vocab = embed.dim(0)?;
        let output = match get("output.weight") {
            Ok(w) => Linear::load(w, dtype, dev)?,
            Err(_) => Linear::load(embed_q, dtype, dev)?, // tied embeddings
        };
        let norm = get("output_norm.weight")?.dequantize(dev)?;
        let mut layers = Vec::with_capacity(cfg.n_layer);
        for i in 0..cfg.n_layer {
            let p = format!("blk.{i}");
            let mut lin = |n: &str| -> Result<Linear> { Linear::load(get(&format!("{p}.{n}.weight"))?, dtype, dev) };
            let (wq, wk, wv, wo) = (lin("attn_q")?, lin("attn_k")?, lin("attn_v")?, lin("attn_output")?);
            let (w_gate, w_up, w_down) = (lin("ffn_gate")?, lin("ffn_up")?, lin("ffn_down")?);
            layers.push(Layer {
                attn_norm: get(&format!("{p}.attn_norm.weight"))?.dequantize(dev)?,
                ffn_norm: get(&format!("{p}.ffn_norm.weight"))?.dequantize(dev)?,
                wq,
                wk,
                wv,
                wo,
                w_gate,
                w_up,
                w_down,
            });
        }
        // RoPE tables are computed on the CPU and copied to the device, so every device uses the same
        // cos/sin bits (GPU transcendental functions round differently).
        let cpu = Device::Cpu;
        let theta: Vec<f32> =
            (0..head_dim).step_by(2).map(|i| 1f32 / rope_base.powf(i as f32 / head_dim as f32)).collect();
        let theta = Tensor::new(theta.as_slice(), &cpu)?;
        let idx = Tensor::arange(0, cfg.context as u32, &cpu)?.to_dtype(DType::F32)?.reshape((cfg.context, 1))?;
        let freqs = idx.matmul(&theta.reshape((1, head_dim / 2))?)?;
        Ok(Self {
            cfg: Config { vocab, ..cfg },
            embed,
            layers,
            norm,
            output,
            cos: freqs.cos()?.to_device(dev)?,
            sin: freqs.sin()?.to_device(dev)?,
            device: dev.clone(),
        })
    }

    /// Whether several sequences may share one decode step bit-exactly: only with the CPU f32 kernel,
    /// whose per-row results do not depend on the batch (see `kernel`).
    pub fn batch_invariant_decode(&self) -> bool {
        matches!(self.output, Linear::CpuF32 { .. })
    }

    pub fn new_cache(&self) -> KvCache {
        KvCache { layers: vec![None; self.cfg.n_layer] }
    }

    /// Prefill one sequence with `tokens`; returns the logits of its last position as a `Vec<f32>`.
    pub fn prefill(&self, tokens: &[u32], cache: &mut KvCache) -> Result<Vec<f32>> {
        let rows = self.forward(&[tokens], &mut [cache])?;
        rows.into_iter().next().ok_or_else(|| candle_core::Error::Msg("empty batch".into()))
    }

    /// One decode step for several sequences: `tokens[i]` is appended to `caches[i]`.
    pub fn decode(&self, tokens: &[u32], caches: &mut [&mut KvCache]) -> Result<Vec<Vec<f32>>> {
        let seqs: Vec<&[u32]> = tokens.iter().map(std::slice::from_ref).collect();
        self.forward(&seqs, caches)
    }

    /// Forward `seqs` (each continuing its own cache). All sequences must have the same length.
    fn forward(&self, seqs: &[&[u32]], caches: &mut [&mut KvCache]) -> Result<Vec<Vec<f32>>> {
        let b = seqs.len();
        let s = seqs.first().map_or(0, |x| x.len());
        if b == 0 || s == 0 || caches.len() != b || seqs.iter().any(|x| x.len() != s) {
            candle_core::bail!("forward: bad batch shape");
        }
        for c in caches.iter() {
            if c.len() + s > self.cfg.context {
                candle_core::bail!("sequence exceeds the context window of {}", self.cfg.context);
            }
        }
        let flat: Vec<u32> = seqs.iter().flat_map(|x| x.iter().copied()).collect();
        let ids = Tensor::from_vec(flat, b * s, &self.device)?;
        // Hidden state as (b*s, n_embd): row r is sequence r / s, position r % s.
        let mut x = self.embed.index_select(&ids, 0)?;
        let (nh, nkv, hd) = (self.cfg.n_head, self.cfg.n_kv_head, self.cfg.head_dim);
        let positions: Vec<usize> = caches.iter().map(|c| c.len()).collect();
        let mask = if s > 1 { Some(causal_mask(s, &self.device)?) } else { None };
        for (li, l) in self.layers.iter().enumerate() {
            let h = candle_nn::ops::rms_norm(&x, &l.attn_norm, self.cfg.eps)?;
            let (q, k, v) = (l.wq.forward(&h)?, l.wk.forward(&h)?, l.wv.forward(&h)?);
            let mut ys = Vec::with_capacity(b);
            for (i, cache) in caches.iter_mut().enumerate() {
                let pos = positions[i];
                let heads = |t: &Tensor, n: usize| -> Result<Tensor> {
                    t.narrow(0, i * s, s)?.reshape((1, s, n, hd))?.transpose(1, 2)?.contiguous()
                };
                let cos = self.cos.narrow(0, pos, s)?;
                let sin = self.sin.narrow(0, pos, s)?;
                let qi = candle_nn::rotary_emb::rope_i(&heads(&q, nh)?, &cos, &sin)?;
                let ki = candle_nn::rotary_emb::rope_i(&heads(&k, nkv)?, &cos, &sin)?;
                let vi = heads(&v, nkv)?;
                let (ki, vi) = match &cache.layers[li] {
                    Some((kc, vc)) => (Tensor::cat(&[kc, &ki], 2)?, Tensor::cat(&[vc, &vi], 2)?),
                    None => (ki, vi),
                };
                cache.layers[li] = Some((ki.clone(), vi.clone()));
                let rep = nh / nkv;
                let ki = candle_transformers::utils::repeat_kv(ki, rep)?;
                let vi = candle_transformers::utils::repeat_kv(vi, rep)?.contiguous()?;
                let att = (qi.matmul(&ki.t()?)? / (hd as f64).sqrt())?;
                let att = match &mask {
                    // Only a fresh prefill (pos == 0) has s > 1; its mask is square.
                    Some(m) if pos == 0 => m
                        .broadcast_as(att.shape())?
                        .where_cond(&Tensor::new(f32::NEG_INFINITY, &self.device)?.broadcast_as(att.shape())?, &att)?,
                    Some(_) => candle_core::bail!("multi-token continuation is not supported"),
                    None => att,
                };
                let att = candle_nn::ops::softmax_last_dim(&att)?;
                let y = att.matmul(&vi)?; // (1, nh, s, hd)
                ys.push(y.transpose(1, 2)?.reshape((s, nh * hd))?);
            }
            let y = Tensor::cat(&ys, 0)?;
            x = (l.wo.forward(&y)? + &x)?;
            let h = candle_nn::ops::rms_norm(&x, &l.ffn_norm, self.cfg.eps)?;
            let g = candle_nn::ops::silu(&l.w_gate.forward(&h)?)?;
            let m = (g * l.w_up.forward(&h)?)?;
            x = (l.w_down.forward(&m)? + &x)?;
        }
        // Last position of every sequence.
        let last: Vec<u32> = (0..b).map(|i| (i * s + s - 1) as u32).collect();
        let x = x.index_select(&Tensor::new(last.as_slice(), &self.device)?, 0)?;
        let x = candle_nn::ops::rms_norm(&x, &self.norm, self.cfg.eps)?;
        let logits = self.output.forward(&x)?.to_dtype(DType::F32)?;
        (0..b).map(|i| logits.i(i)?.to_vec1::<f32>()).collect()
    }
}

/// `(s, s)` u8 mask, 1 where key position > query position.
fn causal_mask(s: usize, dev: &Device) -> Result<Tensor> {
    let m: Vec<u8> = (0..s).flat_map(|i| (0..s).map(move |j| u8::from(j > i))).collect();
    Tensor::from_slice(&m, (s, s), dev)
}

/// Index of the largest logit; the first one on ties. NaN logits are an error. The rule of
/// oracle/NUMERICS.md §7, one implementation for every profile ([`verity_exact::math::argmax_first`]).
pub fn argmax_first(logits: &[f32]) -> std::result::Result<u32, &'static str> {
    if logits.is_empty() {
        return Err("empty logits");
    }
    verity_exact::math::argmax_first(logits).map(|i| i as u32).ok_or("NaN logit")
}

#[cfg(test)]
mod tests {
    use super::argmax_first;

    #[test]
    fn argmax_takes_first_maximum() {
        assert_eq!(argmax_first(&[1.0, 3.0, 3.0, 2.0]), Ok(1));
        assert_eq!(argmax_first(&[5.0, 5.0]), Ok(0));
        assert_eq!(argmax_first(&[f32::NEG_INFINITY, f32::NEG_INFINITY, -1.0]), Ok(2));
        assert_eq!(argmax_first(&[0.0, f32::NAN]), Err("NaN logit"));
        assert_eq!(argmax_first(&[]), Err("empty logits"));
    }
}
