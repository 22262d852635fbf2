//! Sampling parameters: user input → milli-units in the program's ranges (rounding, greedy, seeds), the display
//! string, the price per 1k tokens, the ≈FLOPs estimate; and the ranges restated here against the program's own error message (IDL).
import { describe, expect, it } from "vitest";
import BN from "bn.js";
import type { BorshInstructionCoder } from "@coral-xyz/anchor";
import { GREEDY, MAX_TEMPERATURE_MILLI, formatSampling, isGreedy, randomSeed, samplingFromUser, samplingProblems, toMilli } from "./sampling";
import { approxFlops, formatFlops, formatPricePer1k, formatSi, formatSol, pricePer1k } from "./protocol";
import { IDL_JSON } from "./idl";
import { Connection, Keypair } from "@solana/web3.js";
import { readOnlyProvider, verityProgram } from "./protocol";
import { modelPda, requestPda } from "./pda";

const U64_MAX = (1n << 64n) - 1n;

describe("sampling", () => {
  it("greedy is temperature 0, top-p 1, seed 0 (Rust Sampling::GREEDY)", () => {
    expect(GREEDY.temperatureMilli).toBe(0);
    expect(GREEDY.topPMilli).toBe(1000);
    expect(GREEDY.seed.toNumber()).toBe(0);
    expect(Object.isFrozen(GREEDY)).toBe(true);
    expect(isGreedy(GREEDY)).toBe(true);
    const g = samplingFromUser({ temperature: 0, topP: 0.5 });
    expect([g.temperatureMilli, g.topPMilli, g.seed.toString()]).toEqual([0, 1000, "0"]); // top-p unused when greedy
    expect(samplingFromUser({ temperature: "0", topP: "0" }).topPMilli).toBe(1000); // greyed out, not checked
    expect(samplingFromUser({ temperature: 0.0004 }).temperatureMilli).toBe(0); // rounds to greedy
    expect(samplingFromUser({ temperature: 0, seed: "7" }).seed.toString()).toBe("7");
    expect(formatSampling(GREEDY)).toBe("greedy");
    expect(formatSampling({ temperatureMilli: 0, topPMilli: 300, seed: 9n })).toBe("greedy");
  });

  it("converts to milli-units, rounding half away from zero on the decimal digits", () => {
    expect(toMilli(0.7)).toBe(700);
    expect(toMilli("0.95")).toBe(950);
    expect(toMilli(0.0005)).toBe(1);
    expect(toMilli("0.0004")).toBe(0);
    expect(toMilli("2.0005")).toBe(2001); // no float drift (2.0005 * 1000 = 2000.4999…)
    expect(toMilli(2.0004)).toBe(2000);
    expect(toMilli("1.")).toBe(1000);
    expect(toMilli(".25")).toBe(250);
    expect(toMilli(1e-7)).toBe(0);
    expect(toMilli("-0.0005")).toBe(-1);
    for (const bad of ["", " ", ".", "abc", "1.2.3", "0x10", NaN, Infinity]) expect(toMilli(bad as string | number)).toBeNaN();
    const s = samplingFromUser({ temperature: "0.7", topP: "0.95", seed: "123" });
    expect([s.temperatureMilli, s.topPMilli, s.seed.toString()]).toEqual([700, 950, "123"]);
    expect(formatSampling(s)).toBe("T 0.700 · top-p 0.950 · seed 123");
    expect(formatSampling({ temperatureMilli: 2000, topPMilli: 1, seed: new BN(U64_MAX.toString()) })).toBe(`T 2.000 · top-p 0.001 · seed ${U64_MAX}`);
  });

  it("accepts exactly the program's ranges: temperature_milli ≤ 2000, top_p_milli 1..=1000", () => {
    expect(samplingFromUser({ temperature: 2, topP: 1 }).temperatureMilli).toBe(MAX_TEMPERATURE_MILLI);
    expect(samplingFromUser({ temperature: 0.001, topP: 0.001 }).topPMilli).toBe(1);
    expect(samplingFromUser({ temperature: "2.0004", topP: "0.0005" }).topPMilli).toBe(1);
    expect(samplingFromUser({ temperature: 1 }).topPMilli).toBe(1000); // top-p defaults to 1
    expect(() => samplingFromUser({ temperature: 2.001 })).toThrow("temperature must be 0..2 (0 = greedy)");
    expect(() => samplingFromUser({ temperature: "2.0005" })).toThrow(/temperature must be 0\.\.2/);
    expect(() => samplingFromUser({ temperature: -0.1 })).toThrow(/temperature must be 0\.\.2/);
    expect(() => samplingFromUser({ temperature: "warm" })).toThrow("temperature must be a number (0 = greedy)");
    expect(() => samplingFromUser({ temperature: 0.7, topP: 0 })).toThrow("top-p must be 0.001..1 (1 = no truncation)");
    expect(() => samplingFromUser({ temperature: 0.7, topP: "0.0004" })).toThrow(/top-p must be 0\.001\.\.1/);
    expect(() => samplingFromUser({ temperature: 0.7, topP: 1.0005 })).toThrow(/top-p must be 0\.001\.\.1/);
    expect(() => samplingFromUser({ temperature: 0.7, topP: "" })).toThrow("top-p must be a number");
    expect(samplingProblems({ temperature: 3, topP: 0, seed: "x" })).toEqual(["temperature must be 0..2 (0 = greedy)", "top-p must be 0.001..1 (1 = no truncation)", `seed must be a whole number 0..${U64_MAX}`]);
    expect(samplingProblems({ temperature: "0.7", topP: "0.9", seed: "" })).toEqual([]);
    // The program's own message (IDL errors) states the same ranges.
    const err = IDL_JSON.errors.find((e) => e.name === "InvalidSampling")!;
    expect(err.msg).toContain(`temperature_milli ≤ ${MAX_TEMPERATURE_MILLI}`);
    expect(err.msg).toContain("top_p_milli 1..=1000");
  });

  it("seeds: given ones kept (u64 range), a random u64 drawn when sampling without one", () => {
    expect(samplingFromUser({ temperature: 1, seed: U64_MAX.toString() }).seed.toString()).toBe(U64_MAX.toString());
    expect(samplingFromUser({ temperature: 1, seed: 5n }).seed.toString()).toBe("5");
    expect(samplingFromUser({ temperature: 1, seed: new BN(6) }).seed.toString()).toBe("6");
    expect(samplingFromUser({ temperature: 1, seed: 0 }).seed.toString()).toBe("0");
    for (const bad of [(U64_MAX + 1n).toString(), "-1", "1.5", "12a", 1.5, -1, 2 ** 60]) {
      expect(() => samplingFromUser({ temperature: 1, seed: bad })).toThrow(/seed must be a whole number/);
    }
    const seeds = new Set(Array.from({ length: 20 }, () => samplingFromUser({ temperature: 0.7, seed: " " }).seed.toString()));
    expect(seeds.size).toBe(20);
    for (const s of seeds) expect(BigInt(s) >= 0n && BigInt(s) <= U64_MAX).toBe(true);
    expect([...seeds].some((s) => BigInt(s) > 1n << 53n)).toBe(true); // the full 64 bits, not a float's 53
    expect(BN.isBN(randomSeed())).toBe(true);
  });
});

describe("submit_request carries the sampling", () => {
  it("encodes SubmitRequestArgs.sampling in the instruction data and decodes it back", async () => {
    const program = verityProgram(readOnlyProvider(new Connection("http://127.0.0.1:1")));
    const who = Keypair.generate().publicKey;
    const nonce = new BN(7);
    const sampling = samplingFromUser({ temperature: "0.7", topP: "0.95", seed: U64_MAX.toString() });
    const args = { nonce, prompt: Buffer.from("hi"), promptHash: null, promptUri: "", maxTokens: 4, fee: new BN(4000), outputCapacity: 64, callbackProgram: null, sampling };
    // Offline: every account given (the optional Prompt as null), so the resolver needs no RPC.
    const ix = await program.methods.submitRequest(args).accountsPartial({ requester: who, model: modelPda(1), request: requestPda(who, nonce), prompt: null }).instruction();
    const decoded = (program.coder.instruction as BorshInstructionCoder).decode(ix.data) as { name: string; data: { args: typeof args } };
    expect(decoded.name).toBe("submitRequest");
    const s = decoded.data.args.sampling;
    expect([s.temperatureMilli, s.topPMilli, s.seed.toString()]).toEqual([700, 950, U64_MAX.toString()]);
  });
});

describe("price per 1k tokens", () => {
  it("is price_per_token × 1000 lamports, shown in SOL", () => {
    expect(pricePer1k(new BN(1000))).toBe(1_000_000n);
    expect(pricePer1k(1)).toBe(1000n);
    expect(pricePer1k(0n)).toBe(0n);
    expect(formatPricePer1k(1000)).toBe("0.001 SOL / 1k tokens");
    expect(formatPricePer1k(new BN(1))).toBe("0.000001 SOL / 1k tokens");
    expect(formatSol(1_500_000_000n)).toBe("1.5 SOL");
    expect(formatSol(1, 9)).toBe("0.000000001 SOL");
    expect(formatSol(1, 6)).toBe("0 SOL");
    expect(formatSol(-2_500_000_000n)).toBe("-2.5 SOL");
  });
});

describe("compute estimate", () => {
  it("≈FLOPs = 2 × params × (tokens in + out), saturating at u64::MAX like the program", () => {
    expect(approxFlops(new BN(134_515_008), 30, 10)).toBe(2n * 134_515_008n * 40n);
    expect(approxFlops(0, 30, 10)).toBe(0n);
    expect(approxFlops(new BN(U64_MAX.toString()), 1, 0)).toBe(U64_MAX);
    expect(formatSi(134_515_008)).toBe("135M");
    expect(formatSi(1_500_000n)).toBe("1.5M");
    expect(formatSi(999_600)).toBe("1M");
    expect(formatSi(512)).toBe("512");
    expect(formatFlops(2n * 134_515_008n * 40n)).toBe("≈10.8 GFLOP");
    expect(formatFlops(new BN(512))).toBe("≈512 FLOP");
    expect(formatFlops(0)).toBe("unknown");
  });
});
