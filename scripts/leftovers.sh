#!/usr/bin/env bash
# The test scripts' "no process left behind" check. scripts/test.sh and scripts/ts-test.sh export VERITY_RUN=<id>
# before starting anything, so every process the suites start (localnet, nodes, vite, chromium, test binaries)
# carries it in its environment. Run at their end: waits up to $VERITY_LEFTOVER_GRACE s (default 20) for those
# processes (other than the calling scripts) to exit, then fails listing and killing any still alive, so the next
# run starts clean; also fails if one of the given TCP ports still accepts connections on 127.0.0.1.
# Usage: VERITY_RUN=<id> scripts/leftovers.sh [PORT...]
set -euo pipefail
exec python3 - "$@" <<'PY'
import os, signal, socket, sys, time

run = os.environ.get("VERITY_RUN") or sys.exit("leftovers.sh: VERITY_RUN is not set")
grace = float(os.environ.get("VERITY_LEFTOVER_GRACE", "20"))
ports = [int(p) for p in sys.argv[1:]]
tag = f"VERITY_RUN={run}".encode()

def stat(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])  # state, parent pid

callers, p = set(), os.getpid()  # this check and the scripts that run it
while p > 1 and p not in callers:
    callers.add(p)
    try:
        p = stat(p)[1]
    except OSError:
        break

def left():
    found = {}
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            if int(d) in callers or tag not in open(f"/proc/{d}/environ", "rb").read().split(b"\0"):
                continue
            if stat(d)[0] != "Z":  # zombies have exited already
                found[int(d)] = open(f"/proc/{d}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            pass  # gone meanwhile, or not ours to read
    return found

def busy(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0

deadline = time.monotonic() + grace
while (left() or any(map(busy, ports))) and time.monotonic() < deadline:
    time.sleep(0.5)
procs, taken = left(), [p for p in ports if busy(p)]
for pid, cmd in sorted(procs.items()):
    print(f"leftovers.sh: process {pid} started by the tests is still running: {cmd[:200]}", file=sys.stderr)
for port in taken:
    print(f"leftovers.sh: port {port} is still in use", file=sys.stderr)
if procs or taken:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in procs:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        time.sleep(2)
    sys.exit("leftovers.sh: FAILED: the suites left processes behind (killed now)")
print(f"no process left behind (run {run}{', ports ' + ' '.join(map(str, ports)) + ' free' if ports else ''})")
PY
