#!/usr/bin/env bash
# TypeScript suite, from a clean clone: npm ci, Debian chromium, the SDK's IDL types / typecheck, the typecheck of
# tests/ts + migrations/, the SDK and app unit tests, the app's typecheck / production build, then `verity localnet --nodes 3` in the background (test validator + program + 3 staked
# operators AND their 3 real oracle nodes running SmolLM2, which assign, infer, commit, reveal, finalize and write
# every request themselves), the IDL-client integration tests, the browser e2e (screenshots in
# test-results/e2e/), and the localnet is stopped. Pass or fail, it ends with scripts/leftovers.sh: no process it
# started may survive it and the ports it used must be free (so a second run passes too).
#   VERITY_TS_RPC_PORT   localnet RPC port (default 18899; websocket = port + 1)
#   E2E_PORT             vite preview port of the browser e2e (default 4173)
#   VERITY_TS_STATE      localnet state dir (default $TMPDIR/verity-ts-localnet; log: <dir>.log)
#   VERITY_MODELS_DIR    model files (default ~/.cache/verity/models; fetched if missing)
#   VERITY_TS_SKIP_BUILD=1  do not run scripts/build.sh (the binaries must exist)
#   VERITY_TS_NODES=stand-in  fallback without oracle nodes: `verity-localnet` plus tests/ts/lib/operator-driver.ts
#                        signing as the operators (placeholder answers, or real ones with VERITY_INFER_BIN)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
START=$(date +%s)
PORT=${VERITY_TS_RPC_PORT:-18899}
STATE=${VERITY_TS_STATE:-${TMPDIR:-/tmp}/verity-ts-localnet}
LOG=$STATE.log
CACHE=${VERITY_CACHE:-$HOME/.cache}
export VERITY_MODELS_DIR=${VERITY_MODELS_DIR:-$CACHE/verity/models}
export RUST_LOG=${RUST_LOG:-warn}
export VERITY_RUN=${VERITY_RUN:-ts-test-$$-$START}   # inherited by every process started here (leftovers.sh)
E2E_PORT=${E2E_PORT:-4173}
PORTS=("$PORT" "$((PORT + 1))" "$E2E_PORT")
step() { printf '\n=== %s (%s, +%ss)\n' "$1" "$(date -u +%H:%M:%S)" "$(( $(date +%s) - START ))"; }
# The background processes (localnet, stand-in driver) get their own process group (setsid) and are stopped as a
# whole, so a signal also reaches anything they started; on any exit the leftover check runs.
LOCALNET_PID= DRIVER_PID=
stop_group() {  # stop_group PID SIGNAL: signal the group, wait up to 30 s, then SIGKILL it; reap
  kill "-$2" -- "-$1" 2>/dev/null || return 0
  for _ in $(seq 1 150); do kill -0 -- "-$1" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "-$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
stop_localnet() {
  [ -z "$DRIVER_PID" ] || stop_group "$DRIVER_PID" TERM
  [ -z "$LOCALNET_PID" ] || stop_group "$LOCALNET_PID" INT
  DRIVER_PID= LOCALNET_PID=
}
finish() {
  local rc=$?
  trap - EXIT
  stop_localnet
  step "no process left behind (scripts/leftovers.sh, ports ${PORTS[*]})"
  bash scripts/leftovers.sh "${PORTS[@]}" || rc=1
  step "done in $(( $(date +%s) - START )) s (exit status $rc)"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

step "node deps (npm ci)"
node --version; npm --version
npm ci --no-audit --no-fund

step "chromium (Debian package)"
if [ ! -x /usr/bin/chromium ]; then
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
/usr/bin/chromium --version

step "sdk + app + tests/ts: IDL types up to date, typecheck, unit tests, production build"
npm run check -w sdk
npm run typecheck -w tests/ts   # tests/ts and migrations/ (tsx runs them without a typecheck)
npm run build -w app
npm run test:unit -w sdk -w app

step "verity binaries (scripts/build.sh: the one shared Rust build; a no-op when fresh) and the model"
if [ "${VERITY_TS_SKIP_BUILD:-}" != 1 ]; then bash scripts/build.sh; fi
BIN_DIR=${VERITY_TARGET:-$CACHE/verity-node-target}/debug
NODES=${VERITY_TS_NODES:-real}
if [ "$NODES" = real ]; then
  [ -x "$BIN_DIR/verity" ] || { echo "missing $BIN_DIR/verity (bash scripts/build.sh builds it)"; exit 1; }
  "$BIN_DIR/verity" models fetch --models-dir "$VERITY_MODELS_DIR"
  CMD=("$BIN_DIR/verity" localnet --dir "$STATE" --nodes 3 --rpc-port "$PORT")
else
  CMD=("$BIN_DIR/verity-localnet" --dir "$STATE" --rpc-port "$PORT")
  if [ -n "${VERITY_INFER_BIN:-}" ]; then
    CMD+=(--profile-hash "$("$VERITY_INFER_BIN" infer --json --max-tokens 1 hi | grep -o '"profile_hash":"[0-9a-f]*"' | cut -d'"' -f4)")
  fi
fi

for p in "${PORTS[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "port $p is already in use (a leftover of an earlier run?):"; ss -ltnp "sport = :$p" 2>/dev/null || true; exit 1
  fi
done

step "${CMD[*]} (background; log $LOG)"
rm -rf "$STATE"; mkdir -p "$STATE"
setsid "${CMD[@]}" >"$LOG" 2>&1 &
LOCALNET_PID=$!
# Loading the model and starting the validator take ~10-30 s.
for _ in $(seq 1 600); do
  [ -s "$STATE/localnet.json" ] && break
  if ! kill -0 "$LOCALNET_PID" 2>/dev/null; then echo "localnet exited:"; tail -50 "$LOG"; exit 1; fi
  sleep 1
done
[ -s "$STATE/localnet.json" ] || { echo "localnet did not come up"; tail -50 "$LOG"; exit 1; }
head -4 "$STATE/localnet.json"
export VERITY_LOCALNET=$STATE/localnet.json
if [ "$NODES" != real ]; then
  setsid node --import tsx tests/ts/lib/operator-driver.ts >"$STATE.driver.log" 2>&1 &
  DRIVER_PID=$!
  echo "stand-in nodes: pid $DRIVER_PID, log $STATE.driver.log"
fi

step "integration tests (IDL client; requests answered by the $NODES nodes)"
npm test -w tests/ts

step "browser e2e (playwright-core + /usr/bin/chromium, burner wallet, $NODES nodes)"
E2E_PORT=$E2E_PORT npm run e2e -w tests/ts
echo "screenshots: $ROOT/test-results/e2e/"
ls -1 test-results/e2e/

step "stopping the localnet"
stop_localnet
