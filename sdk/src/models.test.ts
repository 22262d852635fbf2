//! Served-models bitmaps: building, testing, toggling and listing model bits, and the u64 bounds.
import { describe, expect, it } from "vitest";
import BN from "bn.js";
import { MAX_MODELS, servedModelIndices, servedModelsArg, servedModelsMask, servesModel, toggleServedModel } from "./models";

describe("served-models bitmap", () => {
  it("builds, tests, toggles and lists bits", () => {
    const m = servedModelsMask([0, 2, 63]);
    expect(m).toBe((1n << 63n) | 0b101n);
    expect(servesModel(m, 2)).toBe(true);
    expect(servesModel(new BN(m.toString()), 1)).toBe(false);
    expect(servedModelIndices(toggleServedModel(m, 2))).toEqual([0, 63]);
    expect(servedModelIndices(toggleServedModel(0n, 5))).toEqual([5]);
    expect(servedModelsArg(m).toString()).toBe(m.toString());
  });
  it("rejects indices outside the u64 bitmap", () => {
    expect(MAX_MODELS).toBe(64);
    expect(() => servedModelsMask([64])).toThrow(/out of range/);
    expect(() => servesModel(1n, -1)).toThrow(/out of range/);
  });
});
