//! The CPU emulator [`Device`]: host memory, and `kernels.cu` compiled as C++ (emu.cpp, built by build.rs) run
//! thread by thread over each launch's grid.
use {
    super::{Arg, DevPtr, Device, GpuError, Kernel},
    std::{cell::RefCell, ffi::c_void},
};

extern "C" {
    fn verity_emu_launch(id: i32, gx: u32, gy: u32, bx: u32, args: *mut *mut c_void);
    fn verity_emu_kernel_name(id: i32) -> *const std::ffi::c_char;
}

/// The emulator: every allocation is host memory (16-byte aligned), addressed by its host address. Not `Sync`:
/// one thread at a time uses it (the kernels' memory is written through raw pointers).
#[derive(Default)]
pub struct Emulator {
    /// Allocations (`Box<[u128]>` turned raw: start, length in u128), freed on drop.
    mem: RefCell<Vec<(*mut u128, usize)>>,
}

// SAFETY: the allocations are owned by the emulator alone (nothing else frees them), so moving it to another
// thread moves their ownership; without `Sync` no two threads use it at once.
unsafe impl Send for Emulator {}

impl Drop for Emulator {
    fn drop(&mut self) {
        for &(p, n) in self.mem.get_mut().iter() {
            // SAFETY: made by `Box::into_raw` of a boxed slice of `n` elements in `alloc`, freed once, here.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, n)) });
        }
    }
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
        let inside = self.mem.borrow().iter().any(|&(p, n)| {
            let (lo, bytes) = (p as u64, (n * 16) as u64);
            at >= lo && at.checked_add(len as u64).is_some_and(|end| end <= lo + bytes)
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
        let n = bytes.div_ceil(16).max(1);
        let p = Box::into_raw(vec![0u128; n].into_boxed_slice()) as *mut u128;
        self.mem.borrow_mut().push((p, n));
        Ok(p as DevPtr)
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

    unsafe fn launch(&self, k: Kernel, grid: (u32, u32), block: u32, args: &[Arg]) -> Result<(), GpuError> {
        let mut vals: Vec<u64> = args.iter().map(|a| a.slot()).collect();
        let mut ptrs: Vec<*mut c_void> = vals.iter_mut().map(|v| v as *mut u64 as *mut c_void).collect();
        // SAFETY: the caller's contract (`Device::launch`), the same as cuLaunchKernel's.
        unsafe { verity_emu_launch(k as i32, grid.0, grid.1, block, ptrs.as_mut_ptr()) };
        Ok(())
    }

    fn sync(&self) -> Result<(), GpuError> {
        Ok(())
    }
}
