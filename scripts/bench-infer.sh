#!/usr/bin/env bash
# Benchmark: the exact profile (or --dtype) vs llama.cpp (PyPI wheel xllamacpp, in a venv) on the same GGUF, the same
# token-id prompts, at threads 1,2 and batch 1,4,16 (--thread-counts, --batches): `X tok/s vs llama.cpp Y tok/s, ratio X/Y`.
# Usage: scripts/bench-infer.sh [--model NAME] [--threads N] [--max-tokens N] [--batches 1,4] [--prompts-file F]
# Builds with scripts/build.sh's one cargo selection (the numeric crates are opt-level 3 in that dev build).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/build.sh
VENV=$CACHE/verity/bench-venv
XLLAMACPP_VERSION=${XLLAMACPP_VERSION:-2026.10.11549}

if ! "$VENV/bin/python" -c "import xllamacpp" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "xllamacpp==$XLLAMACPP_VERSION"
fi
verity_build
BIN=$VERITY_TARGET/debug/verity
THREADS=$(nproc)
MODEL=smollm2-135m
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) THREADS=$2; shift 2 ;;
    --model) MODEL=$2; ARGS+=("$1" "$2"); shift 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
"$BIN" models fetch "$MODEL" >/dev/null
RUST_LOG=warn exec "$BIN" --threads "$THREADS" bench infer --python "$VENV/bin/python" "${ARGS[@]}"
