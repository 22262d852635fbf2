//! The committed IDL of programs/verity (`idl/verity.json`, written by scripts/idl.sh) and what is read from it at
//! module load: the program id and the PDA seeds the program declares as `#[constant]` (programs/verity/src/constants.rs).
import { PublicKey } from "@solana/web3.js";
import idlJson from "./idl/verity.json";
import type { Verity } from "./idl/verity";

export type { Verity };
/** The IDL exactly as the program emits it (Rust names: `CONFIG_SEED`, `submit_request`, error codes and messages). */
export const IDL_JSON = idlJson;
/** The IDL typed as `Verity`, for `new Program<Verity>(IDL, provider)` (Anchor camelCases the names at runtime). */
export const IDL = idlJson as unknown as Verity;
export const PROGRAM_ID = new PublicKey(idlJson.address);

/** One entry of the IDL's `constants` (its `value` is the Rust `Debug` text, e.g. `"[99, 111, 110]"` for bytes). */
export interface IdlConstant {
  name: string;
  type: unknown;
  value: string;
}

const REGENERATE = "regenerate it with `bash scripts/idl.sh sdk/src/idl/verity.json` and `npm run gen-types -w sdk`";

/** The `bytes` constant `name` of an IDL's `constants`; throws when it is missing or is not a byte string. */
export function idlBytesConstant(constants: readonly IdlConstant[] | undefined, name: string): Uint8Array {
  const c = constants?.find((k) => k.name === name);
  if (!c) throw new Error(`IDL constant ${name} is missing from the Verity IDL: ${REGENERATE}`);
  let bytes: unknown;
  try {
    bytes = JSON.parse(c.value);
  } catch {
    bytes = undefined;
  }
  const ok = Array.isArray(bytes) && bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255);
  if (c.type !== "bytes" || !ok) throw new Error(`IDL constant ${name} is not a byte string (type ${JSON.stringify(c.type)}, value ${c.value}): ${REGENERATE}`);
  return Uint8Array.from(bytes as number[]);
}

/** The PDA seeds (prefixes) the program declares as IDL constants. */
export const SEED_NAMES = [
  "CONFIG_SEED",
  "REGISTRY_SEED",
  "STAKE_VAULT_SEED",
  "MODEL_SEED",
  "OPERATOR_SEED",
  "REQUEST_SEED",
  "OUTPUT_SEED",
  "DISPUTE_SEED",
  "CALLBACK_SEED",
  "PROMPT_SEED",
] as const;
export type SeedName = (typeof SEED_NAMES)[number];

/** Every seed in SEED_NAMES, parsed from the committed IDL when this module loads (a missing one throws here). */
export function idlSeeds(constants: readonly IdlConstant[] | undefined): Readonly<Record<SeedName, Uint8Array>> {
  return Object.freeze(Object.fromEntries(SEED_NAMES.map((n) => [n, idlBytesConstant(constants, n)])) as Record<SeedName, Uint8Array>);
}
export const SEEDS = idlSeeds((idlJson as { constants?: IdlConstant[] }).constants);
