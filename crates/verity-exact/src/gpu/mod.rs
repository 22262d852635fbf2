//! The exact profile on a GPU (oracle/NUMERICS.md, same bits as the CPU engine): the kernels of `kernels.cu`
//! driven by [`GpuLlama`] through a [`Device`] — CUDA (feature `cuda`: the kernels compiled to PTX by nvcc, loaded
//! through the driver API) or the [`Emulator`], which runs the same kernel source compiled as C++ on the CPU so
//! the tests check the GPU code path bit for bit on machines without a GPU.
#[cfg(feature = "cuda")]
mod cuda;
mod decode;
mod emu;
mod model;

#[cfg(feature = "cuda")]
pub use cuda::Cuda;
pub use {
    decode::{decode, self_check, Readback},
    emu::Emulator,
    model::{GpuLlama, Slot},
};

/// An address in a device's memory (0 is the null pointer).
pub type DevPtr = u64;

/// A kernel argument, passed by value.
#[derive(Clone, Copy, Debug)]
pub enum Arg {
    Ptr(DevPtr),
    I32(i32),
    F32(f32),
}

impl Arg {
    /// The value's bytes in an 8-byte slot (pointers are 8 bytes, i32 / f32 the low 4, little-endian).
    pub(crate) fn slot(self) -> u64 {
        match self {
            Arg::Ptr(p) => p,
            Arg::I32(v) => u64::from(v as u32),
            Arg::F32(v) => u64::from(v.to_bits()),
        }
    }
}

/// The kernels of `kernels.cu`, in the emulator's table order (`k as usize` is the index in [`Kernel::ALL`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    RmsNormQuant,
    Quantize,
    SiluMulQuant,
    MmQ4_1,
    MmQ8_0,
    MmQ4F,
    MmQ6K,
    RopeStore,
    AttScores,
    AttSoftmax,
    AttOut,
    ArgmaxPart,
    ArgmaxFinal,
}

impl Kernel {
    pub const ALL: [Kernel; 13] = [
        Kernel::RmsNormQuant,
        Kernel::Quantize,
        Kernel::SiluMulQuant,
        Kernel::MmQ4_1,
        Kernel::MmQ8_0,
        Kernel::MmQ4F,
        Kernel::MmQ6K,
        Kernel::RopeStore,
        Kernel::AttScores,
        Kernel::AttSoftmax,
        Kernel::AttOut,
        Kernel::ArgmaxPart,
        Kernel::ArgmaxFinal,
    ];

    /// The kernel's `extern "C"` name in kernels.cu.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::RmsNormQuant => "vx_rmsnorm_quant",
            Kernel::Quantize => "vx_quantize",
            Kernel::SiluMulQuant => "vx_silu_mul_quant",
            Kernel::MmQ4_1 => "vx_mm_q4_1",
            Kernel::MmQ8_0 => "vx_mm_q8_0",
            Kernel::MmQ4F => "vx_mm_q4f",
            Kernel::MmQ6K => "vx_mm_q6k",
            Kernel::RopeStore => "vx_rope_store",
            Kernel::AttScores => "vx_att_scores",
            Kernel::AttSoftmax => "vx_att_softmax",
            Kernel::AttOut => "vx_att_out",
            Kernel::ArgmaxPart => "vx_argmax_part",
            Kernel::ArgmaxFinal => "vx_argmax_final",
        }
    }
}

/// Why a device operation failed.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error("CUDA: {0}")]
    Cuda(String),
    #[error("device memory access out of bounds: {0} bytes at {1:#x}")]
    Bounds(usize, DevPtr),
    #[error("{0}")]
    Model(#[from] crate::llama::ModelError),
    #[error("batch of {rows} rows exceeds the {max} this model was set up for")]
    Rows { rows: usize, max: usize },
    #[error("slot {0} is out of range or not open")]
    Slot(usize),
    #[error("a logit is NaN: no token")]
    NaN,
    #[error("the device's logits differ from the CPU engine's at step {step}: it does not compute the exact profile")]
    Mismatch { step: usize },
    #[error("every sequence slot is in use")]
    NoSlot,
    #[error("a sequence of a step has no tokens")]
    EmptySequence,
    #[error("{0}")]
    Config(String),
}

/// A device: memory and kernel launches, in order (every call sees the effects of the calls before it).
pub trait Device {
    /// A short description (device name).
    fn describe(&self) -> String;
    /// `bytes` of zeroed memory, alive as long as the device.
    fn alloc(&self, bytes: usize) -> Result<DevPtr, GpuError>;
    fn upload(&self, dst: DevPtr, src: &[u8]) -> Result<(), GpuError>;
    fn download(&self, src: DevPtr, dst: &mut [u8]) -> Result<(), GpuError>;
    /// Runs `k` over `grid.0 × grid.1` blocks of `block` threads.
    ///
    /// # Safety
    /// `args` are `k`'s parameters in kernels.cu's order and types, every pointer into a live allocation of this
    /// device large enough for what the kernel reads and writes at this launch shape (cuLaunchKernel's contract).
    unsafe fn launch(&self, k: Kernel, grid: (u32, u32), block: u32, args: &[Arg]) -> Result<(), GpuError>;
    /// Waits for every launch so far.
    fn sync(&self) -> Result<(), GpuError>;
}

impl<D: Device + ?Sized> Device for Box<D> {
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn alloc(&self, bytes: usize) -> Result<DevPtr, GpuError> {
        (**self).alloc(bytes)
    }
    fn upload(&self, dst: DevPtr, src: &[u8]) -> Result<(), GpuError> {
        (**self).upload(dst, src)
    }
    fn download(&self, src: DevPtr, dst: &mut [u8]) -> Result<(), GpuError> {
        (**self).download(src, dst)
    }
    unsafe fn launch(&self, k: Kernel, grid: (u32, u32), block: u32, args: &[Arg]) -> Result<(), GpuError> {
        // SAFETY: the caller's contract, passed on.
        unsafe { (**self).launch(k, grid, block, args) }
    }
    fn sync(&self) -> Result<(), GpuError> {
        (**self).sync()
    }
}

/// Little-endian bytes of f32 / i32 values (what the kernels read).
pub(crate) fn bytes_of<T: Copy + ToLe>(v: &[T]) -> Vec<u8> {
    v.iter().flat_map(|x| x.le()).collect()
}

/// A 4-byte value's little-endian bytes.
pub(crate) trait ToLe {
    fn le(self) -> [u8; 4];
}
impl ToLe for f32 {
    fn le(self) -> [u8; 4] {
        self.to_le_bytes()
    }
}
impl ToLe for i32 {
    fn le(self) -> [u8; 4] {
        self.to_le_bytes()
    }
}
