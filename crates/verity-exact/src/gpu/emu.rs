//! The CPU emulator [`Device`]: host memory, and `kernels.cu` compiled as C++ (emu.cpp, built by build.rs) run
//! thread by thread over each launch's grid.
use {
    super::{Arg, DevPtr, Device, GpuError, Kernel},
    std::{ffi::c_void, sync::Mutex},
};

extern "C" {
    fn verity_emu_launch(id: i32, gx: u32, gy: u32, bx: u32, args: *mut *mut c_void);
    fn verity_emu_kernel_name(id: i32) -> *const std::ffi::c_char;
}

/// The emulator: every allocation is host memory (16-byte aligned), addressed by its host address.
#[derive(Default)]
pub struct Emulator {
    mem: Mutex<Vec<Box<[u128]>>>,
}

impl Emulator {
    pub fn new() -> Emulator {
        Emulator::default()
    }

    /// The kernel names of emu.cpp's table, in order (what [`Kernel::ALL`] must match).
    pub fn kernel_names() -> Vec<String> {
        (0..)
            .map_while(|i| {
                // SAFETY: the function returns null or a pointer to a static NUL-terminated string.
                let p = unsafe { verity_emu_kernel_name(i) };
                // SAFETY: as above.
                (!p.is_null()).then(|| unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned())
            })
            .collect()
    }

    /// Checks that `[at, at + len)` lies inside one allocation.
    fn check(&self, at: DevPtr, len: usize) -> Result<(), GpuError> {
        let mem = self.mem.lock().map_err(|_| GpuError::Cuda("emulator memory lock poisoned".into()))?;
        let inside = mem.iter().any(|b| {
            let (lo, n) = (b.as_ptr() as u64, (b.len() * 16) as u64);
            at >= lo && at.checked_add(len as u64).is_some_and(|end| end <= lo + n)
        });
        if inside {
            Ok(())
        } else {
            Err(GpuError::Bounds(len, at))
        }
    }
}

impl Device for Emulator {
    fn describe(&self) -> String {
        "emulator (kernels.cu as C++ on the CPU)".into()
    }

    fn alloc(&self, bytes: usize) -> Result<DevPtr, GpuError> {
        let b = vec![0u128; bytes.div_ceil(16).max(1)].into_boxed_slice();
        let p = b.as_ptr() as DevPtr;
        self.mem.lock().map_err(|_| GpuError::Cuda("emulator memory lock poisoned".into()))?.push(b);
        Ok(p)
    }

    fn upload(&self, dst: DevPtr, src: &[u8]) -> Result<(), GpuError> {
        self.check(dst, src.len())?;
        // SAFETY: the range lies inside one live allocation (checked), which `src` cannot overlap.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst as *mut u8, src.len()) };
        Ok(())
    }

    fn download(&self, src: DevPtr, dst: &mut [u8]) -> Result<(), GpuError> {
        self.check(src, dst.len())?;
        // SAFETY: as in `upload`.
        unsafe { std::ptr::copy_nonoverlapping(src as *const u8, dst.as_mut_ptr(), dst.len()) };
        Ok(())
    }

    fn launch(&self, k: Kernel, grid: (u32, u32), block: u32, args: &[Arg]) -> Result<(), GpuError> {
        let mut vals: Vec<u64> = args.iter().map(|a| a.slot()).collect();
        let mut ptrs: Vec<*mut c_void> = vals.iter_mut().map(|v| v as *mut u64 as *mut c_void).collect();
        let id = Kernel::ALL.iter().position(|&x| x == k).unwrap_or(0) as i32;
        // SAFETY: the model passes each kernel its arguments in kernels.cu's order and types, pointers into live
        // allocations sized for the launch (the same contract as cuLaunchKernel).
        unsafe { verity_emu_launch(id, grid.0, grid.1, block, ptrs.as_mut_ptr()) };
        Ok(())
    }

    fn sync(&self) -> Result<(), GpuError> {
        Ok(())
    }
}
