#!/usr/bin/env bash
# Idle cost of the local network: starts `verity localnet --nodes N` (default 3), lets it settle, then over a
# window (default 30 s) prints the process's CPU (percent of one core), the slot time from JSON-RPC getSlot, and
# the threads that used the most CPU (by thread name). Usage: scripts/bench-idle.sh [nodes] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/build.sh
nodes=${1:-3}; secs=${2:-30}
dir=$(mktemp -d); log="$dir/localnet.log"
"$VERITY_TARGET/debug/verity" localnet --nodes "$nodes" --dir "$dir/net" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
echo "starting verity localnet --nodes $nodes (pid $pid) ..."
for _ in $(seq 1 240); do grep -q "localnet is up" "$log" && break; sleep 1; done
grep -q "localnet is up" "$log" || { tail -20 "$log"; echo "localnet did not come up" >&2; exit 1; }
rpc=$(grep -o 'RPC URL: *[^ ]*' "$log" | awk '{print $3}')
echo "up at $rpc; settling 10 s, then measuring $secs s"
sleep 10
hz=$(getconf CLK_TCK)
slot() { curl -s -X POST -H 'content-type: application/json' -d '{"jsonrpc":"2.0","id":1,"method":"getSlot"}' "$rpc" | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"])'; }
threads() { for t in /proc/$pid/task/*; do [ -r "$t/stat" ] && awk -v c="$(cat "$t/comm" 2>/dev/null)" '{print c"\t"$14+$15}' "$t/stat" 2>/dev/null; done; }
total() { awk '{print $14+$15}' /proc/$pid/stat; }
t0=$(total); s0=$(slot); threads >"$dir/t0"; start=$(date +%s.%N)
sleep "$secs"
t1=$(total); s1=$(slot); threads >"$dir/t1"; end=$(date +%s.%N)
python3 - "$t0" "$t1" "$s0" "$s1" "$start" "$end" "$hz" "$dir/t0" "$dir/t1" <<'PY'
import sys, collections
t0, t1, s0, s1 = map(int, sys.argv[1:5]); start, end = map(float, sys.argv[5:7]); hz = int(sys.argv[7])
wall = end - start
print(f"idle localnet: CPU {100 * (t1 - t0) / hz / wall:.1f}% of one core over {wall:.1f} s; "
      f"{s1 - s0} slots, {1000 * wall / max(s1 - s0, 1):.0f} ms per slot")
def read(p):
    d = collections.Counter()
    for line in open(p):
        name, ticks = line.rstrip("\n").rsplit("\t", 1)
        d[name] += int(ticks)
    return d
a, b = read(sys.argv[8]), read(sys.argv[9])
use = sorted(((b[k] - a.get(k, 0), k) for k in b), reverse=True)[:8]
print("  by thread: " + ", ".join(f"{k} {100 * v / hz / wall:.1f}%" for v, k in use if v > 0))
PY
