#!/usr/bin/env bash
# The one Rust build every script shares: the whole workspace (program, Agave-runtime tests, native glue,
# localnet, oracle engine + node) with one feature selection in one persistent target dir, so the Agave and
# candle crates are compiled once and never rebuilt for another package selection (librocksdb alone takes ~30 min
# on 2 cores). Installs the system packages the build needs. Binaries land in $VERITY_TARGET/debug/
# (verity, verity-localnet). Source it to get VERITY_TARGET, or run it to only build.
# Output: one progress line every 25 build units or 60 s ("[mm:ss] units done/total, compiling: ..."), warnings
# and errors in full; VERITY_BUILD_PLAIN=1 shows cargo's own output instead.
set -euo pipefail
CACHE=${VERITY_CACHE:-$HOME/.cache}
export VERITY_TARGET=${VERITY_TARGET:-$CACHE/verity-node-target}
export CARGO_TARGET_DIR=$VERITY_TARGET
export CARGO_TERM_COLOR=never
unset RUSTUP_TOOLCHAIN
# The feature selection of every cargo command (keep identical everywhere: a different one rebuilds Agave).
VERITY_CARGO_SEL=(--workspace --features verity-oracle/localnet)
# Clippy lints every workspace crate as it compiles (clippy-driver as cargo's workspace wrapper: dependencies are
# compiled by plain rustc and shared), warnings denied. VERITY_CLIPPY=0 builds the workspace crates without it
# (they then recompile once; dependencies do not).
if [ "${VERITY_CLIPPY:-1}" = 1 ]; then
  export RUSTC_WORKSPACE_WRAPPER=clippy-driver
  export CLIPPY_ARGS=${CLIPPY_ARGS-"-Dwarnings__CLIPPY_HACKERY__"}
fi

verity_deps() {
  # librocksdb-sys (solana-test-validator) needs libclang; .cargo/config.toml points LIBCLANG_PATH at llvm-14.
  if [ ! -e /usr/lib/llvm-14/lib/libclang.so ]; then
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y libclang-dev clang
  fi
}

# Reads cargo's stderr (with its progress bar forced on: CARGO_TERM_PROGRESS_WHEN=always) and prints a progress
# line every 25 units or 60 s; drops the per-crate "Compiling"/"Downloaded"/"Executable" lines, passes the rest.
read -r -d '' VERITY_PROGRESS_PY <<'PY' || true
import os, re, select, sys, time
t0 = time.monotonic()
state = {"done": 0, "total": 0, "busy": "", "compiled": 0, "downloaded": 0, "shown": 0, "at": t0}
BAR = re.compile(r"^\s*Building \[[^\]]*\]\s+(\d+)/(\d+)(?::\s*(.*))?$")
HIDE = re.compile(r"^\s*(Compiling|Downloaded|Executable)\s")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
def say(s):
    sys.stderr.write(s + "\n"); sys.stderr.flush()
def stamp():
    m, s = divmod(int(time.monotonic() - t0), 60)
    return f"[{m:02d}:{s:02d}]"
def report(force=False):
    st = state
    if not force and st["done"] - st["shown"] < 25 and time.monotonic() - st["at"] < 60:
        return
    if st["total"]:
        line = f"{stamp()} {st['done']}/{st['total']} build units done; compiling: {st['busy'] or '-'}"
    else:
        line = f"{stamp()} {st['compiled']} crates compiled"
    say(line[:150]); st["shown"], st["at"] = st["done"], time.monotonic()
def record(r):
    r = ANSI.sub("", r).rstrip()
    if not r.strip():
        return
    m = BAR.match(r)
    if m:
        state["done"], state["total"], state["busy"] = int(m[1]), int(m[2]), m[3] or ""
        report(); return
    h = HIDE.match(r)
    if h:
        key = "compiled" if h[1] == "Compiling" else "downloaded" if h[1] == "Downloaded" else None
        if key:
            state[key] += 1
            if key == "downloaded" and state[key] % 100 == 0:
                say(f"{stamp()} {state[key]} crates downloaded")
        return
    if r.lstrip().startswith("Finished") and state["compiled"]:
        say(f"{stamp()} {state['compiled']} crates compiled")
    say(r)
buf = ""
while True:
    if not select.select([0], [], [], 5)[0]:
        if state["total"] or state["compiled"]:
            report()
        continue
    chunk = os.read(0, 65536)
    if not chunk:
        break
    *records, buf = re.split(r"[\r\n]", buf + chunk.decode("utf-8", "replace"))
    for r in records:
        record(r)
record(buf)
PY

# Builds every test binary and the `verity` / `verity-localnet` binaries (as `cargo test` builds them).
verity_build() {
  verity_deps
  if [ -x "$VERITY_TARGET/debug/verity" ]; then
    echo "build: incremental (usually seconds to a few minutes) in $VERITY_TARGET"
  else
    echo "build: FIRST BUILD in $VERITY_TARGET: compiles Agave, candle and rocksdb (~1250 build units):"
    echo "       about 35 min on 2 cores (less with more); later builds take seconds to minutes"
  fi
  if [ "${VERITY_BUILD_PLAIN:-}" = 1 ]; then
    cargo test "${VERITY_CARGO_SEL[@]}" --no-run "$@"
    return
  fi
  CARGO_TERM_PROGRESS_WHEN=always CARGO_TERM_PROGRESS_WIDTH=160 \
    cargo test "${VERITY_CARGO_SEL[@]}" --no-run "$@" 2>&1 | python3 -u -c "$VERITY_PROGRESS_PY"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  cd "$(dirname "$0")/.."
  verity_build "$@"
fi
