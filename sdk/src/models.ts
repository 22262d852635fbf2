//! The served-models bitmap of an operator (`served_models: u64`, bit i = the model with `Model.index` i), as
//! register_operator / set_served_models take it and the draw reads it from the registry.
import BN from "bn.js";

/** Models that can ever be registered: one bit each in the u64 bitmap (Rust `MAX_MODELS`). */
export const MAX_MODELS = 64;

type Mask = bigint | number | BN | { toString(): string };
const big = (m: Mask) => BigInt(m.toString());
function bit(index: number): bigint {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_MODELS) throw new Error(`model index out of range: ${index}`);
  return 1n << BigInt(index);
}

/** The bitmap with exactly the given model indices set. */
export function servedModelsMask(indices: Iterable<number>): bigint {
  let m = 0n;
  for (const i of indices) m |= bit(i);
  return m;
}

/** Whether the bitmap serves the model at `index`. */
export function servesModel(mask: Mask, index: number): boolean {
  return (big(mask) & bit(index)) !== 0n;
}

/** The bitmap with the model at `index` flipped. */
export function toggleServedModel(mask: Mask, index: number): bigint {
  return big(mask) ^ bit(index);
}

/** The model indices set in the bitmap, ascending. */
export function servedModelIndices(mask: Mask): number[] {
  const m = big(mask);
  return Array.from({ length: MAX_MODELS }, (_, i) => i).filter((i) => ((m >> BigInt(i)) & 1n) !== 0n);
}

/** The bitmap as the `u64` argument of register_operator / set_served_models. */
export const servedModelsArg = (mask: Mask) => new BN(big(mask).toString());
