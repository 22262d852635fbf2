//! [`GpuLlama`]: the forward pass of NUMERICS.md §6 on a [`Device`], the same steps as [`Llama::forward`] in the
//! same order, each a kernel of kernels.cu. Weights are uploaded block-major (block `b` of column `j` at `b × n +
//! j`: neighbouring threads read neighbouring blocks), q/k/v and gate/up concatenated when their types agree
//! (columns are independent: no bit changes). KV caches are preallocated per slot; any set of slots may run in one
//! step, each with any number of new tokens (continuous batching), and a sequence's logits are the same bits
//! alone or batched, and equal the CPU engine's.
use {
    super::{bytes_of, Arg, DevPtr, Device, GpuError, Kernel},
    crate::{
        llama::{Arch, Config, Llama, ModelError},
        quant::{QMatrix, WeightType, BLOCK},
    },
};

/// Threads per block of the element-wise kernels and the matrix product.
const TPB: u32 = 128;
/// Rows per thread of the matrix product (kernels.cu's VX_ROWS).
const MM_ROWS: usize = 4;
/// Logits per thread of the first argmax pass (kernels.cu's VX_CHUNK).
const ARGMAX_CHUNK: usize = 1024;

/// What a matrix product does with its output element (kernels.cu's MODE_*).
#[derive(Clone, Copy)]
enum Out {
    Store = 0,
    /// `acc + bias[col]`.
    Bias = 1,
    /// `out + acc` (the residual stream).
    Add = 2,
}

/// A sequence's KV cache slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot(usize);

impl Slot {
    pub fn index(self) -> usize {
        self.0
    }
}

/// A weight matrix on the device, block-major.
struct Mat {
    ty: WeightType,
    n: usize,
    nb: usize,
    d: DevPtr,
    m: DevPtr,
    sc: DevPtr,
    qs: DevPtr,
}

/// One or more matrices writing adjacent column ranges of one output (`(matrix, first column)`).
type Group = Vec<(Mat, usize)>;

struct Layer {
    attn_norm: DevPtr,
    ffn_norm: DevPtr,
    qkv: Group,
    /// q|k|v biases (qwen2), or null.
    bias: DevPtr,
    wo: Mat,
    gate_up: Group,
    down: Mat,
}

/// Quantized activations (kernels.cu's q, d, s, qsum, qlo parameters).
struct Qa {
    q: DevPtr,
    d: DevPtr,
    s: DevPtr,
    qsum: DevPtr,
    qlo: DevPtr,
}

/// The exact model on a device.
pub struct GpuLlama<D: Device> {
    dev: D,
    cfg: Config,
    embd: QMatrix,
    layers: Vec<Layer>,
    out_norm: DevPtr,
    head: Mat,
    cos: DevPtr,
    sin: DevPtr,
    cap: usize,
    max_rows: usize,
    kc: DevPtr,
    vc: DevPtr,
    /// Per slot: `Some(cached positions)` while open.
    slots: Vec<Option<usize>>,
    x: DevPtr,
    qa: Qa,
    qkv: DevPtr,
    att: DevPtr,
    gu: DevPtr,
    scores: DevPtr,
    logits: DevPtr,
    pos: DevPtr,
    slot_of: DevPtr,
    last: DevPtr,
    am_v: DevPtr,
    am_i: DevPtr,
    am_out: DevPtr,
}

fn f32s(dev: &impl Device, v: &[f32]) -> Result<DevPtr, GpuError> {
    let p = dev.alloc(4 * v.len())?;
    dev.upload(p, &bytes_of(v))?;
    Ok(p)
}

/// Uploads `mats` (same type and width) as one block-major matrix of their columns in order.
fn upload(dev: &impl Device, mats: &[&QMatrix]) -> Result<Mat, GpuError> {
    let (ty, k) = (mats[0].ty, mats[0].k);
    let (n, nb, qb) = (mats.iter().map(|m| m.n).sum::<usize>(), k / BLOCK, ty.quant_bytes());
    let (mut d, mut m, mut sc, mut qs) =
        (Vec::with_capacity(n * nb), Vec::new(), Vec::new(), Vec::with_capacity(n * nb * qb));
    for b in 0..nb {
        for w in mats {
            for j in 0..w.n {
                let blk = w.block(j, b);
                d.push(blk.d);
                if ty.has_offset() {
                    m.push(blk.m);
                }
                if ty == WeightType::Q6K {
                    sc.extend(blk.sc.map(|s| s as u8));
                }
                qs.extend_from_slice(&blk.qs[..qb]);
            }
        }
    }
    let raw = |v: &[u8]| -> Result<DevPtr, GpuError> {
        let p = dev.alloc(v.len())?;
        dev.upload(p, v)?;
        Ok(p)
    };
    Ok(Mat { ty, n, nb, d: f32s(dev, &d)?, m: f32s(dev, &m)?, sc: raw(&sc)?, qs: raw(&qs)? })
}

/// `mats` as one matrix when their types agree, else one each, at their column offsets.
fn group(dev: &impl Device, mats: &[&QMatrix]) -> Result<Group, GpuError> {
    if mats.iter().all(|m| m.ty == mats[0].ty) {
        return Ok(vec![(upload(dev, mats)?, 0)]);
    }
    let mut col = 0;
    let mut g = Vec::new();
    for m in mats {
        g.push((upload(dev, &[m])?, col));
        col += m.n;
    }
    Ok(g)
}

fn grid1(threads: usize) -> (u32, u32) {
    (threads.div_ceil(TPB as usize) as u32, 1)
}

impl<D: Device> GpuLlama<D> {
    /// Uploads `llama` to `dev` with `slots` KV caches of `cap` positions each and room for `max_rows` token rows
    /// per step (a prefill's tokens count one row each).
    pub fn new(llama: &Llama, dev: D, slots: usize, cap: usize, max_rows: usize) -> Result<GpuLlama<D>, GpuError> {
        let c = llama.cfg;
        if cap > c.context {
            return Err(ModelError::CacheFull(c.context).into());
        }
        let (e, kvw, nff) = (c.n_embd, c.n_kv_head * c.head_dim, c.n_ff);
        let mut layers = Vec::with_capacity(c.n_layer);
        for l in &llama.layers {
            let bias = if c.arch.qkv_bias() { f32s(&dev, &l.bias.concat())? } else { 0 };
            layers.push(Layer {
                attn_norm: f32s(&dev, &l.attn_norm)?,
                ffn_norm: f32s(&dev, &l.ffn_norm)?,
                qkv: group(&dev, &[&l.wq, &l.wk, &l.wv])?,
                bias,
                wo: upload(&dev, &[&l.wo])?,
                gate_up: group(&dev, &[&l.gate, &l.up])?,
                down: upload(&dev, &[&l.down])?,
            });
        }
        let head = upload(&dev, &[llama.output.as_ref().unwrap_or(&llama.embd)])?;
        let kmax = e.max(nff);
        let buf = |n: usize| dev.alloc(4 * n); // n f32 or i32 values
        let qa = Qa {
            q: dev.alloc(max_rows * kmax)?,
            d: buf(max_rows * kmax / BLOCK)?,
            s: buf(max_rows * kmax / BLOCK)?,
            qsum: buf(max_rows * kmax / BLOCK)?,
            qlo: buf(max_rows * kmax / BLOCK)?,
        };
        let cache = slots * c.n_layer * cap * kvw;
        // Logit rows: one per sequence of a step, each holding a distinct slot.
        let seqs = slots.min(max_rows);
        let am_parts = seqs * c.vocab.div_ceil(ARGMAX_CHUNK);
        Ok(GpuLlama {
            out_norm: f32s(&dev, &llama.out_norm)?,
            cos: f32s(&dev, &llama.cos)?,
            sin: f32s(&dev, &llama.sin)?,
            kc: buf(cache)?,
            vc: buf(cache)?,
            x: buf(max_rows * e)?,
            qkv: buf(max_rows * (e + 2 * kvw))?,
            att: buf(max_rows * e)?,
            gu: buf(max_rows * 2 * nff)?,
            scores: buf(max_rows * c.n_head * cap)?,
            logits: buf(seqs * c.vocab)?,
            pos: buf(max_rows)?,
            slot_of: buf(max_rows)?,
            last: buf(max_rows)?,
            am_v: buf(am_parts)?,
            am_i: buf(am_parts)?,
            am_out: buf(seqs)?,
            qa,
            head,
            layers,
            embd: llama.embd.clone(),
            cfg: c,
            cap,
            max_rows,
            slots: vec![None; slots],
            dev,
        })
    }

    pub fn device(&self) -> &D {
        &self.dev
    }

    pub fn config(&self) -> Config {
        self.cfg
    }

    /// Opens a free slot (an empty cache of `cap` positions), or None if all are open.
    pub fn open(&mut self) -> Option<Slot> {
        let i = self.slots.iter().position(Option::is_none)?;
        self.slots[i] = Some(0);
        Some(Slot(i))
    }

    /// Closes a slot (its sequence leaves the batch).
    pub fn close(&mut self, s: Slot) {
        if let Some(x) = self.slots.get_mut(s.0) {
            *x = None;
        }
    }

    /// Positions cached in an open slot.
    pub fn len(&self, s: Slot) -> Option<usize> {
        self.slots.get(s.0).copied().flatten()
    }

    /// Runs each `(slot, new tokens)` through the model, appending to the slots' caches; returns each sequence's
    /// logits of its last new token.
    pub fn forward(&mut self, seqs: &[(Slot, &[u32])]) -> Result<Vec<Vec<f32>>, GpuError> {
        self.run(seqs)?;
        let v = self.cfg.vocab;
        let mut raw = vec![0u8; 4 * v * seqs.len()];
        self.dev.download(self.logits, &mut raw)?;
        self.commit(seqs);
        let all: Vec<f32> = raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        Ok(all.chunks_exact(v).map(<[f32]>::to_vec).collect())
    }

    /// After a step succeeded: its tokens are cached (a failed step leaves every slot's length as it was; what it
    /// wrote past them is overwritten by the next step).
    fn commit(&mut self, seqs: &[(Slot, &[u32])]) {
        for (s, t) in seqs {
            self.slots[s.0] = self.len(*s).map(|l| l + t.len());
        }
    }

    /// `k` on this model's buffers.
    fn launch(&self, k: Kernel, grid: (u32, u32), block: u32, args: &[Arg]) -> Result<(), GpuError> {
        // SAFETY: every launch of this type passes the kernel its kernels.cu parameters in order, pointers to
        // allocations made in `new` for `max_rows` rows / the model's sizes, and a grid within the rows staged by
        // `stage` (checked against those sizes).
        unsafe { self.dev.launch(k, grid, block, args) }
    }

    /// As [`GpuLlama::forward`], returning each sequence's greedy next token (the first maximum, §7) computed on
    /// the device; a NaN logit is an error.
    pub fn forward_greedy(&mut self, seqs: &[(Slot, &[u32])]) -> Result<Vec<u32>, GpuError> {
        self.run(seqs)?;
        let (rows, v) = (seqs.len(), self.cfg.vocab);
        let nc = v.div_ceil(ARGMAX_CHUNK);
        let (rows_i, v_i, nc_i) = (Arg::I32(rows as i32), Arg::I32(v as i32), Arg::I32(nc as i32));
        self.launch(
            Kernel::ArgmaxPart,
            grid1(rows * nc),
            TPB,
            &[Arg::Ptr(self.logits), rows_i, v_i, Arg::Ptr(self.am_v), Arg::Ptr(self.am_i)],
        )?;
        let a = [Arg::Ptr(self.am_v), Arg::Ptr(self.am_i), rows_i, nc_i, Arg::Ptr(self.am_out)];
        self.launch(Kernel::ArgmaxFinal, grid1(rows), TPB, &a)?;
        let mut raw = vec![0u8; 4 * rows];
        self.dev.download(self.am_out, &mut raw)?;
        self.commit(seqs);
        raw.chunks_exact(4)
            .map(|b| u32::try_from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])).map_err(|_| GpuError::NaN))
            .collect()
    }

    /// Checks a step without running it: open and distinct slots, no empty sequence, room in every cache, token
    /// ids in the vocabulary (the row budget aside: [`GpuLlama::forward`] refuses more than `max_rows` rows).
    pub fn check(&self, seqs: &[(Slot, &[u32])]) -> Result<(), GpuError> {
        for (i, (s, toks)) in seqs.iter().enumerate() {
            let len = self.len(*s).ok_or(GpuError::Slot(s.0))?;
            if seqs[..i].iter().any(|(o, _)| o == s) {
                return Err(GpuError::Slot(s.0));
            }
            if toks.is_empty() {
                return Err(GpuError::EmptySequence);
            }
            if len + toks.len() > self.cap {
                return Err(ModelError::CacheFull(self.cap).into());
            }
            if let Some(&t) = toks.iter().find(|&&t| t as usize >= self.cfg.vocab) {
                return Err(ModelError::Token(t).into());
            }
        }
        Ok(())
    }

    /// Checks a step and uploads its rows: embeddings, positions, slots and each sequence's last row (the slots'
    /// lengths change only at [`GpuLlama::commit`]).
    fn stage(&self, seqs: &[(Slot, &[u32])]) -> Result<(usize, usize), GpuError> {
        let e = self.cfg.n_embd;
        let rows: usize = seqs.iter().map(|(_, t)| t.len()).sum();
        if rows > self.max_rows {
            return Err(GpuError::Rows { rows, max: self.max_rows });
        }
        self.check(seqs)?;
        let (mut pos, mut slot, mut last, mut x) = (Vec::new(), Vec::new(), Vec::new(), vec![0f32; rows * e]);
        let mut r = 0;
        for (s, toks) in seqs {
            let len = self.len(*s).unwrap_or(0);
            for (j, &t) in toks.iter().enumerate() {
                self.embd.dequantize_row(t as usize, &mut x[r * e..(r + 1) * e]);
                pos.push((len + j) as i32);
                slot.push(s.0 as i32);
                r += 1;
            }
            last.push(r as i32 - 1);
        }
        let max_pos = seqs.iter().map(|(s, t)| self.len(*s).unwrap_or(0) + t.len()).max().unwrap_or(0);
        let d = &self.dev;
        d.upload(self.x, &bytes_of(&x))?;
        d.upload(self.pos, &bytes_of(&pos))?;
        d.upload(self.slot_of, &bytes_of(&slot))?;
        d.upload(self.last, &bytes_of(&last))?;
        Ok((rows, max_pos))
    }

    /// One step; leaves the logits of each sequence's last row in `self.logits`.
    fn run(&self, seqs: &[(Slot, &[u32])]) -> Result<(), GpuError> {
        let (rows, max_pos) = self.stage(seqs)?;
        let c = self.cfg;
        let (e, hd, nh, ng, nff, nl) = (c.n_embd, c.head_dim, c.n_head, c.n_kv_head, c.n_ff, c.n_layer);
        let ldq = e + 2 * ng * hd;
        let i = |v: usize| Arg::I32(v as i32);
        let qa = [self.qa.q, self.qa.d, self.qa.s, self.qa.qsum, self.qa.qlo].map(Arg::Ptr);
        let ptr = Arg::Ptr;
        let common = [ptr(self.pos), ptr(self.slot_of)];
        let scale = 1.0 / (hd as f32).sqrt();
        for (li, l) in self.layers.iter().enumerate() {
            let cache = [i(li), i(nl), i(self.cap)];
            self.norm_quant(0, rows, l.attn_norm)?;
            let mode = if l.bias != 0 { Out::Bias } else { Out::Store };
            for (m, col0) in &l.qkv {
                self.mm(m, rows, self.qkv, ldq, *col0, mode, l.bias)?;
            }
            let units = nh * hd / 2 + ng * hd / 2 + ng * hd;
            let mut a = vec![ptr(self.qkv), i(ldq), i(rows), common[0], common[1], ptr(self.cos), ptr(self.sin)];
            a.extend([i(nh), i(ng), i(hd), i((c.arch == Arch::Qwen2) as usize), ptr(self.kc), ptr(self.vc)]);
            a.extend(cache);
            self.launch(Kernel::RopeStore, grid1(rows * units), TPB, &a)?;
            let mut a = vec![ptr(self.qkv), i(ldq), i(rows), common[0], common[1], ptr(self.kc), ptr(self.scores)];
            a.extend([i(nh), i(ng), i(hd)]);
            a.extend(cache);
            a.push(Arg::F32(scale));
            self.launch(Kernel::AttScores, ((rows * nh) as u32, max_pos.div_ceil(TPB as usize) as u32), TPB, &a)?;
            let a = [ptr(self.scores), i(rows), common[0], i(nh), i(self.cap)];
            self.launch(Kernel::AttSoftmax, grid1(rows * nh), TPB, &a)?;
            let mut a = vec![ptr(self.scores), i(rows), common[0], common[1], ptr(self.vc), ptr(self.att)];
            a.extend([i(nh), i(ng), i(hd)]);
            a.extend(cache);
            self.launch(Kernel::AttOut, ((rows * nh) as u32, 1), hd as u32, &a)?;
            let mut a = vec![ptr(self.att), i(rows), i(e)];
            a.extend(qa);
            self.launch(Kernel::Quantize, grid1(rows * e / BLOCK), TPB, &a)?;
            self.mm(&l.wo, rows, self.x, e, 0, Out::Add, 0)?;
            self.norm_quant(0, rows, l.ffn_norm)?;
            for (m, col0) in &l.gate_up {
                self.mm(m, rows, self.gu, 2 * nff, *col0, Out::Store, 0)?;
            }
            let mut a = vec![ptr(self.gu), i(rows), i(nff)];
            a.extend(qa);
            self.launch(Kernel::SiluMulQuant, grid1(rows * nff / BLOCK), TPB, &a)?;
            self.mm(&l.down, rows, self.x, e, 0, Out::Add, 0)?;
        }
        let s = seqs.len();
        self.norm_quant(self.last, s, self.out_norm)?;
        self.mm(&self.head, s, self.logits, c.vocab, 0, Out::Store, 0)
    }

    /// RMSNorm of `rows` rows of the residual stream (row `rowmap[r]`, or `r` if null) by `g`, quantized into
    /// `self.qa`.
    fn norm_quant(&self, rowmap: DevPtr, rows: usize, g: DevPtr) -> Result<(), GpuError> {
        let e = self.cfg.n_embd;
        let q = &self.qa;
        let a =
            [self.x, rowmap].map(Arg::Ptr).into_iter().chain([Arg::I32(rows as i32), Arg::I32(e as i32), Arg::Ptr(g)]);
        let a: Vec<Arg> =
            a.chain([Arg::F32(self.cfg.eps)]).chain([q.q, q.d, q.s, q.qsum, q.qlo].map(Arg::Ptr)).collect();
        self.launch(Kernel::RmsNormQuant, grid1(rows * e / BLOCK), TPB, &a)
    }

    /// `out[r × ld + col0 + j]` set to, biased by or added to (per `mode`) `dot(w_j, qa_r)`, for `rows` rows.
    #[allow(clippy::too_many_arguments)]
    fn mm(
        &self,
        w: &Mat,
        rows: usize,
        out: DevPtr,
        ld: usize,
        col0: usize,
        mode: Out,
        bias: DevPtr,
    ) -> Result<(), GpuError> {
        let k = match w.ty {
            WeightType::Q4_1 => Kernel::MmQ4_1,
            WeightType::Q8_0 => Kernel::MmQ8_0,
            WeightType::Q4F => Kernel::MmQ4F,
            WeightType::Q6K => Kernel::MmQ6K,
        };
        let q = &self.qa;
        let i = |v: usize| Arg::I32(v as i32);
        let mut a: Vec<Arg> = [w.d, w.m, w.sc, w.qs].map(Arg::Ptr).to_vec();
        a.extend([i(w.n), i(w.nb)]);
        a.extend([q.q, q.d, q.s, q.qsum, q.qlo].map(Arg::Ptr));
        a.extend([i(rows), Arg::Ptr(out), i(ld), i(col0), Arg::I32(mode as i32), Arg::Ptr(bias)]);
        let grid = (w.n.div_ceil(TPB as usize) as u32, rows.div_ceil(MM_ROWS) as u32);
        self.launch(k, grid, TPB, &a)
    }
}
