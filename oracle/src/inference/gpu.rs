//! The exact profile on a GPU: `verity_exact::gpu` (CUDA with feature `exact-cuda`, or the CPU emulator of the
//! same kernels, device `emu`) behind the engine's backend interface. Same profile, same bits as the CPU engine;
//! the device is checked against the CPU engine before it serves (a mismatch is a load error, not a slashing).
use {
    super::device::DeviceSpec,
    std::sync::{Arc, Mutex},
    verity_exact::{
        gpu::{self, Device, GpuError, GpuLlama, Slot},
        llama::Llama,
    },
};

type Shared = Arc<Mutex<GpuLlama<Box<dyn Device + Send>>>>;

/// KV cache slots (sequences at once) on a CUDA device, unless VERITY_GPU_SLOTS says otherwise.
const CUDA_SLOTS: usize = 16;
/// Token rows of one device step (a longer step is split: rows are independent, the bits do not change).
const CUDA_ROWS: usize = 4096;

/// The model on a device.
pub struct ExactGpu {
    model: Shared,
    context: usize,
    slots: usize,
    max_rows: usize,
    describe: String,
}

/// One sequence's slot on the device; closed when dropped.
pub struct GpuCache {
    slot: Slot,
    model: Shared,
}

impl Drop for GpuCache {
    fn drop(&mut self) {
        // Even after a panic elsewhere poisoned the lock, the slot is freed (closing touches no device memory).
        self.model.lock().unwrap_or_else(std::sync::PoisonError::into_inner).close(self.slot);
    }
}

impl GpuCache {
    /// Positions cached (the device model's count for this slot).
    pub fn len(&self) -> usize {
        self.model.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len(self.slot).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn lock_err<T>(_: T) -> GpuError {
    GpuError::Cuda("device lock poisoned by an earlier panic".into())
}

impl ExactGpu {
    /// Opens `spec` (cuda:N or emu), uploads `cpu`'s weights and checks the device against `cpu`. Every device
    /// caches the CPU engine's full context (a shorter one would end generations where CPU nodes go on).
    pub fn open(cpu: &Llama, spec: DeviceSpec) -> Result<ExactGpu, GpuError> {
        let slots = match std::env::var("VERITY_GPU_SLOTS") {
            Ok(v) => match v.trim().parse::<usize>() {
                Ok(n) if n > 0 => Some(n),
                _ => return Err(GpuError::Config(format!("VERITY_GPU_SLOTS={v:?}: expected a positive integer"))),
            },
            Err(_) => None,
        };
        let (dev, slots, max_rows): (Box<dyn Device + Send>, usize, usize) = match spec {
            // The emulator runs the kernels one thread at a time on the CPU: few sequences, short steps.
            DeviceSpec::Emulator => (Box::new(gpu::Emulator::new()), slots.unwrap_or(4), 256),
            #[cfg(feature = "exact-cuda")]
            DeviceSpec::Cuda(n) => (Box::new(gpu::Cuda::new(n)?), slots.unwrap_or(CUDA_SLOTS), CUDA_ROWS),
            #[cfg(not(feature = "exact-cuda"))]
            DeviceSpec::Cuda(_) => {
                let _ = (CUDA_SLOTS, CUDA_ROWS);
                return Err(GpuError::Cuda(
                    "this binary was built without the exact profile's CUDA kernels; rebuild with --features exact-cuda"
                        .into(),
                ));
            }
            DeviceSpec::Cpu => return Err(GpuError::Config("the CPU is not a GPU device".into())),
        };
        let describe = dev.describe();
        let cap = cpu.cfg.context;
        let mut g = GpuLlama::new(cpu, dev, slots, cap, max_rows)?;
        let steps = gpu::self_check(&mut g, cpu, 3)?;
        tracing::info!(
            "{describe}: {slots} sequence slots of {cap} positions; logits equal the CPU engine's on {steps} self-check steps"
        );
        Ok(ExactGpu { model: Arc::new(Mutex::new(g)), context: cap, slots, max_rows, describe })
    }

    /// Positions a sequence may reach.
    pub fn context(&self) -> usize {
        self.context
    }

    /// Sequences the device holds at once.
    pub fn slots(&self) -> usize {
        self.slots
    }

    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// A free slot for a sequence of at most `positions` positions.
    pub fn new_cache(&self, positions: usize) -> Result<GpuCache, GpuError> {
        if positions > self.context {
            return Err(verity_exact::llama::ModelError::CacheFull(self.context).into());
        }
        let slot = self.model.lock().map_err(lock_err)?.open().ok_or(GpuError::NoSlot)?;
        Ok(GpuCache { slot, model: self.model.clone() })
    }

    /// One step: `seqs[i]` appended to `caches[i]`; each sequence's logits of its last new token. Steps of more
    /// than the device's row budget run as several device steps (a long prompt in chunks), which gives the same
    /// bits (each row depends only on its own sequence's earlier positions).
    pub fn step(&self, seqs: &[&[u32]], caches: &mut [&mut GpuCache]) -> Result<Vec<Vec<f32>>, GpuError> {
        if seqs.len() != caches.len() {
            return Err(GpuError::Config(format!("{} sequences but {} caches", seqs.len(), caches.len())));
        }
        let mut m = self.model.lock().map_err(lock_err)?;
        // What a device step would refuse is refused before the first chunk: a step is all or nothing.
        let whole: Vec<(Slot, &[u32])> = caches.iter().map(|c| c.slot).zip(seqs.iter().copied()).collect();
        m.check(&whole)?;
        let mut out = vec![Vec::new(); seqs.len()];
        let mut done = vec![0usize; seqs.len()];
        loop {
            let mut budget = self.max_rows;
            let mut part = Vec::new();
            for (i, s) in seqs.iter().enumerate() {
                let take = (s.len() - done[i]).min(budget);
                if take > 0 {
                    part.push((i, done[i]..done[i] + take));
                    budget -= take;
                }
            }
            if part.is_empty() {
                break;
            }
            let args: Vec<(Slot, &[u32])> = part.iter().map(|(i, r)| (whole[*i].0, &seqs[*i][r.clone()])).collect();
            let logits = m.forward(&args)?;
            for ((i, r), l) in part.into_iter().zip(logits) {
                done[i] = r.end;
                if r.end == seqs[i].len() {
                    out[i] = l;
                }
            }
        }
        Ok(out)
    }
}
