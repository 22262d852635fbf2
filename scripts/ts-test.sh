#!/usr/bin/env bash
# TypeScript suite, from a clean clone: npm ci, Debian chromium, the app's IDL types / typecheck / unit tests /
# production build, a fresh verity-localnet in the background, the IDL-client integration tests, the browser
# e2e (screenshots in test-results/e2e/), then the localnet is stopped.
#   VERITY_TS_RPC_PORT   localnet RPC port (default 18899; websocket = port + 1)
#   VERITY_INFER_BIN     optional: the oracle's `verity` binary; the test driver then answers with the real model
#                        and the localnet registers the real profile hash
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PORT=${VERITY_TS_RPC_PORT:-18899}
STATE=${VERITY_TS_STATE:-${TMPDIR:-/tmp}/verity-ts-localnet}
LOG=$STATE.log
step() { printf '\n=== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

step "node deps (npm ci)"
node --version; npm --version
npm ci --no-audit --no-fund

step "chromium (Debian package)"
if [ ! -x /usr/bin/chromium ]; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
/usr/bin/chromium --version

step "app: IDL types up to date, typecheck, unit tests, production build"
npm run build -w app
npm run test:unit -w app
npx tsc -p tests/ts/tsconfig.json

step "localnet (background): $STATE, rpc port $PORT"
rm -rf "$STATE"; mkdir -p "$STATE"
LOCALNET_ARGS=(--dir "$STATE" --rpc-port "$PORT")
if [ -n "${VERITY_INFER_BIN:-}" ]; then
  PROFILE=$("$VERITY_INFER_BIN" infer --json --max-tokens 1 "hi" | grep -o '"profile_hash":"[0-9a-f]*"' | cut -d'"' -f4)
  LOCALNET_ARGS+=(--profile-hash "$PROFILE")
fi
bash scripts/localnet.sh "${LOCALNET_ARGS[@]}" >"$LOG" 2>&1 &
LOCALNET_PID=$!
stop_localnet() {
  if kill -0 "$LOCALNET_PID" 2>/dev/null; then
    kill -TERM "$LOCALNET_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$LOCALNET_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$LOCALNET_PID" 2>/dev/null || true
  fi
}
trap stop_localnet EXIT
# The first run builds verity-localnet (agave test validator: up to ~30 min on 2 cores); then ~5 s to start.
for i in $(seq 1 3600); do
  [ -s "$STATE/localnet.json" ] && break
  if ! kill -0 "$LOCALNET_PID" 2>/dev/null; then echo "localnet exited:"; tail -50 "$LOG"; exit 1; fi
  sleep 1
done
[ -s "$STATE/localnet.json" ] || { echo "localnet did not come up"; tail -50 "$LOG"; exit 1; }
cat "$STATE/localnet.json" | head -5
export VERITY_LOCALNET=$STATE/localnet.json

step "integration tests (IDL client against the localnet)"
npm test -w tests/ts

step "browser e2e (playwright-core + /usr/bin/chromium)"
npm run e2e -w tests/ts
ls -1 test-results/e2e/

step "done"
