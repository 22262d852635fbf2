#!/usr/bin/env bash
# CPU vs CUDA parity check of the candle f32 profile (the exact profile: scripts/gpu-check.sh). Usage: scripts/gpu-check-f32.sh BIN MODEL_GGUF [PROMPTS_FILE]
#   BIN: a `verity` built with --features cuda; MODEL_GGUF: the fetched SmolLM2 GGUF (its dir is the models dir).
# Runs every prompt (>= 16, one per line) with --json on cpu, on cuda one at a time (batch 1) and on cuda
# batched, then prints per-prompt token-id / output-hash match and tok/s. Exit 1 if any f32 output differs.
# Env: DTYPES (default "f32"; add q4_1 to also report the quantized profile, which is expected to differ),
#      MAX_TOKENS (default 64), BATCH (default 8), THREADS (CPU threads, default nproc).
set -euo pipefail
BIN=${1:?usage: gpu-check-f32.sh BIN MODEL_GGUF [PROMPTS_FILE]}
MODEL=${2:?usage: gpu-check-f32.sh BIN MODEL_GGUF [PROMPTS_FILE]}
PROMPTS=${3:-$(dirname "$0")/../oracle/tests/data/parity-prompts.txt}
DTYPES=${DTYPES:-f32}; MAX_TOKENS=${MAX_TOKENS:-64}; BATCH=${BATCH:-8}; THREADS=${THREADS:-$(nproc)}
export VERITY_MODELS_DIR=$(cd "$(dirname "$MODEL")" && pwd) RUST_LOG=warn
OUT=${OUT_DIR:-$(mktemp -d)}
echo "gpu-check: $(grep -c . "$PROMPTS") prompts, max_tokens $MAX_TOKENS, outputs in $OUT"
status=0
for dt in $DTYPES; do
  common=(infer --json --warmup --dtype "$dt" --max-tokens "$MAX_TOKENS" --prompts-file "$PROMPTS")
  "$BIN" --threads "$THREADS" "${common[@]}" --device cpu --batch 1 >"$OUT/cpu-$dt.jsonl" 2>"$OUT/cpu-$dt.err"
  "$BIN" "${common[@]}" --device cuda --batch 1 >"$OUT/cuda1-$dt.jsonl" 2>"$OUT/cuda1-$dt.err"
  "$BIN" "${common[@]}" --device cuda --batch "$BATCH" >"$OUT/cudab-$dt.jsonl" 2>"$OUT/cudab-$dt.err"
  for f in cpu cuda1 cudab; do grep aggregate "$OUT/$f-$dt.err" | sed "s/^/[$dt $f] /" || true; done
  python3 - "$dt" "$OUT/cpu-$dt.jsonl" "$OUT/cuda1-$dt.jsonl" "$OUT/cudab-$dt.jsonl" <<'PY' || status=1
import json, sys
dt, *files = sys.argv[1:]
cpu, c1, cb = ([json.loads(l) for l in open(f) if l.strip()] for f in files)
assert len(cpu) == len(c1) == len(cb) and len(cpu) >= 16, "missing outputs"
ok = 0
print(f"{'#':>3} {'ids':>5} {'hash':>5} {'batched':>7} {'cpu t/s':>8} {'cuda t/s':>8} {'cudaB t/s':>9} text")
for a, b, c in zip(cpu, c1, cb):
    ids = a["token_ids"] == b["token_ids"]; h = a["output_hash"] == b["output_hash"]
    bat = b["output_hash"] == c["output_hash"]
    ok += ids and h and bat
    print(f"{a['index']:>3} {str(ids):>5} {str(h):>5} {str(bat):>7} {a['tok_per_s']:>8.1f} {b['tok_per_s']:>8.1f} {c['tok_per_s']:>9.1f} {a['text'][:40]!r}")
print(f"[{dt}] cpu == cuda (ids, output hash) and cuda batch-1 == cuda batched: {ok}/{len(cpu)}")
sys.exit(0 if ok == len(cpu) or dt != "f32" else 1)
PY
done
exit $status
