#!/usr/bin/env bash
# Builds the Anchor IDL of programs/verity from source (feature `idl-build`; no SBF toolchain needed) and
# writes the JSON to $1. Usage: scripts/idl.sh app/src/idl/verity.json
# It runs the program's generated `__anchor_private_print_idl` tests and assembles their output exactly as
# anchor-lang-idl 0.1.4 `IdlBuilder::build` does (what `anchor idl build` runs): merge address, constants,
# events, errors and types into the program IDL, shorten module paths where unambiguous, sort.
# Uses its own target dir, so the idl-build features do not rebuild (or wait on) the test build's artifacts.
set -euo pipefail
out=${1:?usage: scripts/idl.sh <output.json>}
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
cd "$(dirname "$0")/../programs/verity"
unset RUSTUP_TOOLCHAIN
export CARGO_TARGET_DIR=${VERITY_IDL_TARGET_DIR:-$HOME/.cache/verity-idl-target}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! ANCHOR_IDL_BUILD_NO_DOCS=FALSE ANCHOR_IDL_BUILD_RESOLUTION=TRUE ANCHOR_IDL_BUILD_SKIP_LINT=FALSE \
    ANCHOR_IDL_BUILD_PROGRAM_PATH="$PWD" \
    cargo test __anchor_private_print_idl --features idl-build --lib -- --show-output --quiet >"$log"; then
    cat "$log" >&2
    echo "scripts/idl.sh: IDL build failed" >&2
    exit 1
fi
python3 - "$log" "$out" <<'PY'
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
address, constants, events, errors, types, idl = "", [], [], None, {}, None
state, buf = "pass", []
for line in lines:
    if state == "pass":
        m = re.fullmatch(r"--- IDL begin (address|const|event|errors|program) ---", line)
        if m:
            state, buf = m.group(1), []
        continue
    if state == "address":
        address = re.sub(r"[^0-9A-Za-z]", "", line)
        state = "pass"
        continue
    if line == f"--- IDL end {state} ---":
        doc = json.loads("\n".join(buf))
        if state == "const":
            constants.append(doc)
        elif state == "event":
            events.append(doc["event"])
            types.update({t["name"]: t for t in doc["types"]})
        elif state == "errors":
            errors = doc
        elif state == "program":
            idl = doc
        state = "pass"
        continue
    buf.append(line)
if idl is None:
    sys.exit("scripts/idl.sh: no IDL in the test output")
types.update({t["name"]: t for t in idl.get("types", [])})
merged = {"address": address}
for key in ("metadata", "docs", "instructions", "accounts"):
    if key in idl:
        merged[key] = idl[key]
for key, val in (("events", events), ("errors", errors or []), ("types", [types[k] for k in sorted(types)]),
                 ("constants", constants)):
    if val:
        merged[key] = val
# convert_module_paths: "a::b::Name" -> "Name" unless another path also ends in Name.
text = json.dumps(merged, separators=(",", ":"))
for m in re.finditer(r'"(\w+::)+(\w+)"', json.dumps(merged, separators=(",", ":"))):
    path, name = m.group(0), m.group(2)
    replaced = text.replace(path, f'"{name}"')
    if not re.search(r'"(\w+::)+' + re.escape(name) + '"', replaced):
        text = replaced
merged = json.loads(text)
for key in ("accounts", "constants", "events", "instructions", "types"):
    if key in merged:
        merged[key].sort(key=lambda x: x["name"])
with open(sys.argv[2], "w") as f:
    json.dump(merged, f, indent=2)
    f.write("\n")
print("wrote", sys.argv[2])
PY
