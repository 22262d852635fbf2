//! Verity's exact inference numerics: the computation oracle/NUMERICS.md defines, so that every honest CPU (and
//! GPU) produces the same logit bits at any batch size and thread count. Integer block dot products on the GGUF's
//! quantized weights, pinned float orders, own exp / SiLU / softmax / RoPE tables; a scalar reference and
//! bit-equal SIMD kernels.
pub mod ggml;
pub mod gguf;
pub mod gpu;
pub mod llama;
pub mod load;
pub mod math;
pub mod matmul;
pub mod quant;
pub mod sample;
pub mod simd;

/// The spec version this crate implements (named by the profile hash).
pub const SPEC_VERSION: &str = "verity-exact-v1";
