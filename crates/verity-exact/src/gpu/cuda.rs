//! The CUDA [`Device`]: kernels.cu compiled to PTX by nvcc at build time (build.rs: `--fmad=false`, IEEE division
//! and square root, no flush-to-zero), JIT-loaded by the driver; memory and launches through cudarc's driver API on
//! the context's default stream (the driver library is loaded at run time: the build links no CUDA library).
use {
    super::{Arg, DevPtr, Device, GpuError, Kernel},
    cudarc::driver::{result, CudaContext, CudaFunction, CudaStream, LaunchConfig, PushKernelArg},
    std::sync::{Arc, Mutex},
};

/// The kernels' PTX (nvcc output).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/kernels.ptx"));

fn err(e: impl std::fmt::Debug) -> GpuError {
    GpuError::Cuda(format!("{e:?}"))
}

/// One CUDA device.
pub struct Cuda {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    funcs: Vec<CudaFunction>,
    allocs: Mutex<Vec<DevPtr>>,
}

impl Cuda {
    /// Opens device `ordinal` and loads the kernels.
    pub fn new(ordinal: usize) -> Result<Cuda, GpuError> {
        // cudarc panics when the driver library cannot be loaded: that is this function's error, not a crash (the
        // panic message is kept off stderr while it is caught).
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let ctx = std::panic::catch_unwind(|| CudaContext::new(ordinal));
        std::panic::set_hook(hook);
        let ctx = ctx
            .map_err(|_| GpuError::Cuda("the NVIDIA driver library (libcuda.so.1) could not be loaded".into()))?
            .map_err(err)?;
        // SAFETY: one stream, and every buffer is a raw allocation of this type: no cudarc slice relies on events.
        unsafe { ctx.disable_event_tracking() };
        let module = ctx.load_module(cudarc::nvrtc::Ptx::from_src(PTX)).map_err(err)?;
        let funcs =
            Kernel::ALL.iter().map(|k| module.load_function(k.name()).map_err(err)).collect::<Result<_, _>>()?;
        let stream = ctx.default_stream();
        Ok(Cuda { ctx, stream, funcs, allocs: Mutex::new(Vec::new()) })
    }
}

impl Device for Cuda {
    fn describe(&self) -> String {
        let cc = self.ctx.compute_capability().map(|(a, b)| format!("sm_{a}{b}")).unwrap_or_default();
        format!("{} ({cc})", self.ctx.name().unwrap_or_else(|_| "CUDA device".into()))
    }

    fn alloc(&self, bytes: usize) -> Result<DevPtr, GpuError> {
        self.ctx.bind_to_thread().map_err(err)?;
        let n = bytes.max(1);
        // SAFETY: a fresh allocation, zeroed before use; freed on drop.
        let p = unsafe {
            let p = result::malloc_sync(n).map_err(err)?;
            result::memset_d8_sync(p, 0, n).map_err(err)?;
            p
        };
        self.allocs.lock().map_err(|_| GpuError::Cuda("allocation list lock poisoned".into()))?.push(p);
        Ok(p)
    }

    fn upload(&self, dst: DevPtr, src: &[u8]) -> Result<(), GpuError> {
        self.ctx.bind_to_thread().map_err(err)?;
        // SAFETY: `dst` is an allocation of this device sized by the model for `src` (synchronous copy).
        unsafe { result::memcpy_htod_sync(dst, src) }.map_err(err)
    }

    fn download(&self, src: DevPtr, dst: &mut [u8]) -> Result<(), GpuError> {
        self.ctx.bind_to_thread().map_err(err)?;
        // SAFETY: as in `upload`; a synchronous copy on the legacy stream waits for the launches before it.
        unsafe { result::memcpy_dtoh_sync(dst, src) }.map_err(err)
    }

    unsafe fn launch(&self, k: Kernel, grid: (u32, u32), block: u32, args: &[Arg]) -> Result<(), GpuError> {
        if grid.0 == 0 || grid.1 == 0 {
            return Ok(());
        }
        let vals: Vec<u64> = args.iter().map(|a| a.slot()).collect();
        let f = &self.funcs[k as usize];
        let mut b = self.stream.launch_builder(f);
        // Pointers are 8-byte parameters; i32 / f32 parameters read the low 4 bytes of their slot.
        for v in &vals {
            b.arg(v);
        }
        let cfg = LaunchConfig { grid_dim: (grid.0, grid.1, 1), block_dim: (block, 1, 1), shared_mem_bytes: 0 };
        // SAFETY: the caller's contract (`Device::launch`).
        unsafe { b.launch(cfg) }.map(|_| ()).map_err(err)
    }

    fn sync(&self) -> Result<(), GpuError> {
        self.stream.synchronize().map_err(err)
    }
}

impl Drop for Cuda {
    fn drop(&mut self) {
        let _ = self.stream.synchronize();
        if let Ok(allocs) = self.allocs.lock() {
            for &p in allocs.iter() {
                // SAFETY: allocated by `alloc`, freed once, after the stream is idle.
                let _ = unsafe { result::free_sync(p) };
            }
        }
    }
}
