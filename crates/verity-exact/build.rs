//! Builds the GPU kernels (src/gpu/kernels.cu): always as C++ for the CPU emulator (src/gpu/emu.cpp), and with
//! feature `cuda` as PTX by nvcc, with the flags the spec needs (no FMA contraction, IEEE division and square
//! root, denormals kept).
fn main() {
    println!("cargo:rerun-if-changed=src/gpu/kernels.cu");
    println!("cargo:rerun-if-changed=src/gpu/emu.cpp");
    cc::Build::new()
        .cpp(true)
        .file("src/gpu/emu.cpp")
        .flag_if_supported("-std=c++17")
        // Required, not best-effort: without it the compiler may fuse a × b + c into one rounding.
        .flag("-ffp-contract=off")
        .flag("-fno-fast-math")
        .opt_level(2)
        .compile("verity_exact_emu");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_some() {
        ptx();
    }
}

/// nvcc -ptx of kernels.cu into OUT_DIR/kernels.ptx. nvcc: $NVCC, else $CUDA_HOME/bin/nvcc, else `nvcc` on PATH.
/// The PTX targets compute capability $CUDA_COMPUTE_CAP (default 80: A100, H100/H200, RTX 30xx and newer; the
/// driver JIT-compiles it for the GPU at hand; older GPUs need a lower value, at least 61 for __dp4a).
fn ptx() {
    for v in ["NVCC", "CUDA_HOME", "CUDA_COMPUTE_CAP"] {
        println!("cargo:rerun-if-env-changed={v}");
    }
    let nvcc = std::env::var("NVCC").ok().unwrap_or_else(|| match std::env::var("CUDA_HOME") {
        Ok(h) => format!("{h}/bin/nvcc"),
        Err(_) => "nvcc".into(),
    });
    let cap = std::env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "80".into());
    let out = format!("{}/kernels.ptx", std::env::var("OUT_DIR").expect("OUT_DIR"));
    let status = std::process::Command::new(&nvcc)
        .args(["-ptx", "-O3", "--fmad=false", "-prec-div=true", "-prec-sqrt=true", "-ftz=false"])
        .arg(format!("-arch=compute_{cap}"))
        .args(["src/gpu/kernels.cu", "-o", &out])
        .status()
        .unwrap_or_else(|e| panic!("feature cuda: cannot run nvcc (`{nvcc}`): {e}; set NVCC or CUDA_HOME"));
    assert!(status.success(), "nvcc failed on src/gpu/kernels.cu");
}
