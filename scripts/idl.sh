#!/usr/bin/env bash
# Builds the Anchor IDL of programs/verity from source with Anchor's own builder — anchor-lang-idl's `IdlBuilder`,
# what `anchor idl build` runs (tools/idl-build) — and writes the JSON to $1; no SBF toolchain needed.
# Usage: scripts/idl.sh sdk/src/idl/verity.json   (then `npm run gen-types -w sdk` for the TS type)
# Uses its own target dir ($VERITY_IDL_TARGET_DIR, default ~/.cache/verity-idl-target), so the idl-build features
# never rebuild (or wait on) the workspace build.
set -euo pipefail
out=${1:?usage: scripts/idl.sh <output.json>}
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
root="$(cd "$(dirname "$0")/.." && pwd)"
# IdlBuilder would hand a set RUSTUP_TOOLCHAIN to cargo as a literal "+{toolchain}" argument (anchor-lang-idl 0.1.4).
unset RUSTUP_TOOLCHAIN
export CARGO_TARGET_DIR=${VERITY_IDL_TARGET_DIR:-$HOME/.cache/verity-idl-target}
tool_target="$CARGO_TARGET_DIR/tool"
CARGO_TARGET_DIR="$tool_target" cargo build --quiet --locked --manifest-path "$root/tools/idl-build/Cargo.toml"
"$tool_target/debug/verity-idl-build" "$root/programs/verity" "$out"
