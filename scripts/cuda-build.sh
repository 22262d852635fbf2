#!/usr/bin/env bash
# Builds the exact profile's CUDA code here (no GPU needed): NVIDIA's CUDA 13.0 nvcc from its PyPI wheels (cached in
# $VERITY_CACHE/verity/cuda, default ~/.cache), then, in a target dir of its own ($VERITY_CACHE/verity-cuda-target):
#   scripts/cuda-build.sh           the GPU check (crates/verity-exact example gpu_check; ~1 min), printed path
#   scripts/cuda-build.sh --node    also `verity` with the node and the exact CUDA kernels (--features node,exact-cuda;
#                                   long: it compiles the Agave client crates)
# The kernels are PTX (compute capability $CUDA_COMPUTE_CAP, default 80) that the driver compiles for the GPU at
# start; the binaries load the driver library at run time and link no CUDA library.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${VERITY_CACHE:-$HOME/.cache}
CU=$CACHE/verity/cuda
C=$CU/cu/nvidia/cu13
if [ ! -x "$C/bin/nvcc" ]; then
  echo "cuda-build: fetching nvcc 13.0 (PyPI wheels, ~100 MB) into $CU"
  python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_27_x86_64 --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    --python-version 3.11 -d "$CU/whl" nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-crt==13.0.88 \
    nvidia-cuda-cccl==13.0.85 nvidia-cuda-runtime==13.0.96
  for w in "$CU"/whl/*.whl; do unzip -qo "$w" -d "$CU/cu"; done
fi
export CUDA_HOME=$C NVCC=$C/bin/nvcc CARGO_TARGET_DIR=$CACHE/verity-cuda-target
unset RUSTUP_TOOLCHAIN
echo "cuda-build: $("$NVCC" --version | tail -1)"
cargo build --release -p verity-exact --features cuda --example gpu_check
echo "cuda-build: $CARGO_TARGET_DIR/release/examples/gpu_check"
if [ "${1:-}" = --node ]; then
  cargo build --release -p verity-oracle --features node,exact-cuda --bin verity
  echo "cuda-build: $CARGO_TARGET_DIR/release/verity (--device cuda --dtype exact)"
fi
