#!/usr/bin/env bash
# Start a fresh, bootstrapped Verity localnet (test validator + native program + staked operators), without
# oracle nodes (`verity localnet` runs nodes too).
# Usage: scripts/localnet.sh [--dir DIR (default .localnet)] [--operators N] [--rpc-port P] [--profile-hash HEX]
#        scripts/localnet.sh deps      # only install the system packages the build needs
# Writes DIR/localnet.json (URLs, addresses, keypair paths) and DIR/keys/*.json; runs until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/build.sh
if [ "${1:-}" = deps ]; then verity_deps; exit 0; fi
verity_build
ARGS=("$@")
case " $* " in *" --dir "*) ;; *) ARGS=(--dir .localnet "${ARGS[@]}") ;; esac
exec "$VERITY_TARGET/debug/verity-localnet" "${ARGS[@]}"
