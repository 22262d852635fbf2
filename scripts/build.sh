#!/usr/bin/env bash
# The one Rust build every script shares: the whole workspace (program, Agave-runtime tests, native glue,
# localnet, oracle engine + node) with one feature selection in one persistent target dir, so the Agave and
# candle crates are compiled once and never rebuilt for another package selection (librocksdb alone takes ~30 min
# on 2 cores). Installs the system packages the build needs. Binaries land in $VERITY_TARGET/debug/
# (verity, verity-localnet). Source it to get VERITY_TARGET, or run it to only build.
set -euo pipefail
CACHE=${VERITY_CACHE:-$HOME/.cache}
export VERITY_TARGET=${VERITY_TARGET:-$CACHE/verity-node-target}
export CARGO_TARGET_DIR=$VERITY_TARGET
export CARGO_TERM_COLOR=never
unset RUSTUP_TOOLCHAIN
# The feature selection of every cargo command (keep identical everywhere: a different one rebuilds Agave).
VERITY_CARGO_SEL=(--workspace --features verity-oracle/node)

verity_deps() {
  # librocksdb-sys (solana-test-validator) needs libclang; .cargo/config.toml points LIBCLANG_PATH at llvm-14.
  if [ ! -e /usr/lib/llvm-14/lib/libclang.so ]; then
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y libclang-dev clang
  fi
}

# Builds every test binary and the `verity` / `verity-localnet` binaries (as `cargo test` builds them).
verity_build() {
  verity_deps
  cargo test "${VERITY_CARGO_SEL[@]}" --no-run "$@"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  cd "$(dirname "$0")/.."
  verity_build "$@"
fi
