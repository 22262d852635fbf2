//! The operator registry as the draw sees it (programs/verity/src/state/registry.rs): changes take effect
//! `assign_window + 1` slots after they are made, so the values in force at a slot are the newest of
//! latest / current / previous whose effective slot is ≤ it. Used to tell users (and tests) how many operators
//! a request submitted now can draw from.
import type { IdlAccounts } from "@coral-xyz/anchor";
import type { Verity } from "./idl";
import { servesModel } from "./models";

type Entry = IdlAccounts<Verity>["operatorRegistry"]["entries"][number];
interface Values {
  stake: bigint;
  servedModels: bigint;
  unbonding: boolean;
}

export function valuesAt(e: Entry, slot: number): Values {
  const pick = (v: { stake: { toString(): string }; servedModels: { toString(): string }; unbonding: boolean }) => ({
    stake: BigInt(v.stake.toString()),
    servedModels: BigInt(v.servedModels.toString()),
    unbonding: v.unbonding,
  });
  if (e.effectiveSlot.toNumber() <= slot) return pick(e);
  if (e.current.effectiveSlot.toNumber() <= slot) return pick(e.current);
  return pick(e.previous);
}

/** Entries drawable at `slot` for the model at `modelIndex` (not unbonding, stake ≥ min stake and > 0, serving it). */
export function eligibleAt(entries: Entry[], slot: number, modelIndex: number, minStake: bigint): Entry[] {
  return entries.filter((e) => {
    const v = valuesAt(e, slot);
    return !v.unbonding && v.stake > 0n && v.stake >= minStake && servesModel(v.servedModels, modelIndex);
  });
}
