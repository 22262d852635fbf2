//! Registry values in force at a slot, and eligibility as the draw computes it.
import { describe, expect, it } from "vitest";
import BN from "bn.js";
import { Keypair } from "@solana/web3.js";
import { eligibleAt, valuesAt } from "./registry";

const vals = (stake: number, served: number, unbonding: boolean, eff: number) => ({ stake: new BN(stake), servedModels: new BN(served), unbonding, effectiveSlot: new BN(eff) });
const entry = (latest: ReturnType<typeof vals>, current = vals(0, 0, false, 0), previous = vals(0, 0, false, 0)) =>
  ({ authority: Keypair.generate().publicKey, ...latest, current, previous, openAssignments: 0 }) as any;

describe("registry", () => {
  it("values in force: latest, else current, else previous", () => {
    const e = entry(vals(900, 1, false, 211), vals(100, 1, false, 111), vals(0, 0, false, 0));
    expect(valuesAt(e, 211).stake).toBe(900n);
    expect(valuesAt(e, 210).stake).toBe(100n);
    expect(valuesAt(e, 111).stake).toBe(100n);
    expect(valuesAt(e, 110).stake).toBe(0n);
  });
  it("eligibility: model bit, min stake, not unbonding, in force", () => {
    const es = [entry(vals(10, 0b01, false, 5)), entry(vals(10, 0b10, false, 5)), entry(vals(1, 0b01, false, 5)), entry(vals(10, 0b01, true, 5)), entry(vals(10, 0b01, false, 50))];
    expect(eligibleAt(es, 10, 0, 5n)).toEqual([es[0]]);
    expect(eligibleAt(es, 50, 0, 5n)).toEqual([es[0], es[4]]);
    expect(eligibleAt(es, 10, 1, 5n)).toEqual([es[1]]);
  });
});
