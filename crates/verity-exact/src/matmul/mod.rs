//! The quantized matrix product of the spec (oracle/NUMERICS.md §4): `out[r][j] = dot(w[j], x[r])` with exact
//! integer block sums and one pinned float chain per output element. Every path (the scalar reference, the
//! portable code, AVX2, AVX-512 VNNI) computes each element by those same float operations in the same order,
//! so all are bit-equal, whatever the batch (rows), the element's place in it or the thread count (work is split
//! over output columns only, and every column is computed whole by one task).
mod reference;
#[cfg(target_arch = "x86_64")]
mod x86;
#[cfg(target_arch = "x86_64")]
mod x86_512;

pub use reference::dot as dot_reference;

use {
    crate::quant::{QActs, QMatrix},
    rayon::prelude::*,
};

/// A kernel path. All give bit-identical results; they differ only in speed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// The spec, element by element, as written (slow; the definition the others are tested against).
    Reference,
    /// Portable Rust, eight columns at a time (any CPU).
    Portable,
    /// x86-64 AVX2 + F16C.
    Avx2,
    /// x86-64 AVX-512 VNNI (+F, BW, VL): `vpdpbusd` for the integer block sums, 16 columns per 512-bit vector
    /// (8 per 256-bit one for a last odd group).
    Avx512Vnni,
}

/// Why a path cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("unknown kernel path `{0}` (expected reference, portable, avx2 or avx512vnni)")]
    Unknown(String),
    #[error("kernel path {0:?} is not supported by this CPU")]
    Unsupported(Path),
}

impl Path {
    pub fn name(self) -> &'static str {
        match self {
            Path::Reference => "reference",
            Path::Portable => "portable",
            Path::Avx2 => "avx2",
            Path::Avx512Vnni => "avx512vnni",
        }
    }

    /// Whether the path's element-wise steps (quantization, exp) use the AVX2 code of [`crate::simd`].
    pub fn simd(self) -> bool {
        matches!(self, Path::Avx2 | Path::Avx512Vnni)
    }

    /// Every path.
    pub const ALL: [Path; 4] = [Path::Reference, Path::Portable, Path::Avx2, Path::Avx512Vnni];

    /// Whether this CPU can run the path.
    pub fn supported(self) -> bool {
        match self {
            Path::Reference | Path::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Path::Avx2 => x86::has_avx2(),
            #[cfg(target_arch = "x86_64")]
            Path::Avx512Vnni => x86::has_avx512vnni(),
            #[cfg(not(target_arch = "x86_64"))]
            Path::Avx2 | Path::Avx512Vnni => false,
        }
    }

    /// The fastest path this CPU supports.
    pub fn best() -> Path {
        [Path::Avx512Vnni, Path::Avx2].into_iter().find(|p| p.supported()).unwrap_or(Path::Portable)
    }

    /// The path named by `VERITY_EXACT_KERNEL` (reference|portable|avx2|avx512vnni), else [`Path::best`].
    pub fn from_env() -> Result<Path, PathError> {
        match std::env::var("VERITY_EXACT_KERNEL") {
            Ok(s) if !s.is_empty() => s.parse(),
            _ => Ok(Path::best()),
        }
    }
}

impl std::str::FromStr for Path {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Path, PathError> {
        let p = Path::ALL.into_iter().find(|p| p.name() == s).ok_or_else(|| PathError::Unknown(s.to_string()))?;
        if p.supported() {
            Ok(p)
        } else {
            Err(PathError::Unsupported(p))
        }
    }
}

/// Output columns per parallel task (a multiple of 8).
const COLS_PER_TASK: usize = 32;

/// The row-major output (`rows × ld`) of one product, shared by its tasks: each writes only its own columns, so
/// no two tasks touch the same element.
#[derive(Clone, Copy)]
pub(crate) struct Out {
    ptr: *mut f32,
    ld: usize,
}

// SAFETY: tasks write disjoint column ranges (see `matmul`); the pointer outlives them (`par_iter` joins).
unsafe impl Send for Out {}
// SAFETY: as above.
unsafe impl Sync for Out {}

impl Out {
    /// Writes element (r, j). Safety: (r, j) is in bounds and owned by the calling task.
    #[inline(always)]
    pub(crate) unsafe fn set(self, r: usize, j: usize, v: f32) {
        *self.ptr.add(r * self.ld + j) = v;
    }

    /// Pointer to element (r, j). Safety: as [`Out::set`], for the elements written through it.
    #[inline(always)]
    pub(crate) unsafe fn at(self, r: usize, j: usize) -> *mut f32 {
        self.ptr.add(r * self.ld + j)
    }
}

/// `out (x.rows × w.n, row-major) = x · wᵀ` by `path` (which must be [`Path::supported`]).
pub fn matmul(w: &QMatrix, x: &QActs, out: &mut [f32], path: Path) {
    assert_eq!(w.k, x.k, "matmul: weight width {} vs activation width {}", w.k, x.k);
    assert_eq!(out.len(), x.rows * w.n, "matmul: output size");
    let o = Out { ptr: out.as_mut_ptr(), ld: w.n };
    let tasks = w.n.div_ceil(COLS_PER_TASK);
    (0..tasks).into_par_iter().for_each(|t| {
        let j0 = t * COLS_PER_TASK;
        columns(w, x, j0, COLS_PER_TASK.min(w.n - j0), o, path)
    });
}

/// Fills columns `j0..j0 + ncols` of every row of `out`.
fn columns(w: &QMatrix, x: &QActs, j0: usize, ncols: usize, out: Out, path: Path) {
    // Full groups of eight go to the path; columns past the last full group of the matrix, to the reference.
    let full = (w.n / 8 * 8).saturating_sub(j0).min(ncols) / 8 * 8;
    let mut c = 0;
    #[cfg(target_arch = "x86_64")]
    if path == Path::Avx512Vnni {
        while c + 16 <= full {
            // SAFETY: as below; both groups are full and owned by this task.
            unsafe { x86::cols16_vnni(w, x, j0 + c, out) };
            c += 16;
        }
    }
    while c + 8 <= full {
        match path {
            Path::Reference => reference::cols(w, x, j0 + c, 8, out),
            Path::Portable => reference::cols8_portable(w, x, j0 + c, out),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `path` is supported (checked when it was chosen), so the CPU has the features; this task
            // owns the columns.
            Path::Avx2 => unsafe { x86::cols8_avx2(w, x, j0 + c, out) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Path::Avx512Vnni => unsafe { x86::cols8_vnni(w, x, j0 + c, out) },
            #[cfg(not(target_arch = "x86_64"))]
            Path::Avx2 | Path::Avx512Vnni => reference::cols8_portable(w, x, j0 + c, out),
        }
        c += 8;
    }
    if c < ncols {
        reference::cols(w, x, j0 + c, ncols - c, out);
    }
}
