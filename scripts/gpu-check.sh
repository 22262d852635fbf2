#!/usr/bin/env bash
# CPU vs CUDA check of the exact profile, on a machine with an NVIDIA GPU (driver 580 / CUDA 13 or newer).
# Usage: scripts/gpu-check.sh BIN MODEL_GGUF [PROMPTS [TOKENS]]
#   BIN: gpu_check built by scripts/cuda-build.sh; MODEL_GGUF: SmolLM2-135M-Instruct.Q4_1.gguf (verity models fetch).
# Greedy-decodes PROMPTS (default 100) prompts x TOKENS (default 128) on the CPU engine (all cores) and on CUDA at
# batch 1 and 16, compares every step's logit bits (CPU vs CUDA, and CUDA batch 1 vs 16), prints CUDA tok/s at
# batch 1, 16 and 64 and a per-kernel time profile. Exit 1 on any difference. Output also in $OUT_DIR/gpu-check.txt.
set -euo pipefail
BIN=${1:?usage: gpu-check.sh BIN MODEL_GGUF [PROMPTS [TOKENS]]}
MODEL=${2:?usage: gpu-check.sh BIN MODEL_GGUF [PROMPTS [TOKENS]]}
OUT=${OUT_DIR:-$(mktemp -d)}
export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
  sha256sum "$MODEL"; } | tee "$OUT/machine.txt"
"$BIN" "$MODEL" "${3:-100}" "${4:-128}" 2>&1 | tee "$OUT/gpu-check.txt"
