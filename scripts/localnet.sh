#!/usr/bin/env bash
# Start a fresh, bootstrapped Verity localnet (test validator + native program + staked operators).
# Usage: scripts/localnet.sh [--dir DIR (default .localnet)] [--operators N] [--rpc-port P] [--profile-hash HEX]
#        scripts/localnet.sh deps      # only install the system packages the build needs
# Writes DIR/localnet.json (URLs, addresses, keypair paths) and DIR/keys/*.json; runs until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

deps() {
  # librocksdb-sys (solana-test-validator) needs libclang; .cargo/config.toml points LIBCLANG_PATH at llvm-14.
  if [ ! -e /usr/lib/llvm-14/lib/libclang.so ]; then
    apt-get update && apt-get install -y libclang-dev clang
  fi
}
if [ "${1:-}" = deps ]; then deps; exit 0; fi
deps

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/verity-node-target}
cargo build -q -p verity-localnet --bin verity-localnet
ARGS=("$@")
case " $* " in *" --dir "*) ;; *) ARGS=(--dir .localnet "${ARGS[@]}") ;; esac
exec "$CARGO_TARGET_DIR/debug/verity-localnet" "${ARGS[@]}"
