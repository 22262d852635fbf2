#!/usr/bin/env bash
# Main job. Until `verity demo` (localnet + 3 oracle nodes + a wallet, issue 5) lands, this shows the two halves
# that exist, each for real: (1) three prompts through the deterministic inference engine (SmolLM2, f32 profile),
# with the output hashes that committee members commit to; (2) a full k=3 commit-reveal round of the Verity
# program inside Agave's real runtime with the real SPL Token program (submit → assign → commit → reveal →
# output → finalize → claims → close, every lamport and token asserted).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${VERITY_CACHE:-$HOME/.cache}
export VERITY_MODELS_DIR=${VERITY_MODELS_DIR:-$CACHE/verity/models}
export RUST_LOG=${RUST_LOG:-error}
unset RUSTUP_TOOLCHAIN
ORACLE_TARGET=$CACHE/verity-oracle-target
echo "== building the oracle (verity) and fetching the model"
CARGO_TARGET_DIR=$ORACLE_TARGET cargo build -q -p verity-oracle --no-default-features --bin verity
V=$ORACLE_TARGET/debug/verity
"$V" models fetch --models-dir "$VERITY_MODELS_DIR"
echo; echo "== reproducibility profile registered on chain for SmolLM2-135M (f32)"
"$V" models profile
echo; echo "== inference: each honest operator computes the same text and output_hash"
for p in "What is the capital of France?" "Write a haiku about the ocean." "What does a blockchain validator do?"; do
  echo "> $p"; "$V" infer --max-tokens 48 "$p"; echo
done
echo "== on-chain round (k=3) in the real Agave runtime"
CARGO_TARGET_DIR=$CACHE/verity-target cargo test -q -p verity-tests --test happy_path --test slashing 2>&1 | grep -E "^test |test result"
echo; echo "demo finished"
