//! A request's decoding parameters (`SubmitRequestArgs.sampling`, `Request.sampling`, `RequestSubmitted.sampling`):
//! temperature and top-p in milli-units and a u64 seed, as programs/verity/src/state/sampling.rs checks them
//! (`InvalidSampling` otherwise); user input (decimals, an optional seed) turned into those units.
import type { IdlTypes } from "@coral-xyz/anchor";
import BN from "bn.js";
import type { Verity } from "./idl";

/** `Sampling { temperature_milli: u16, top_p_milli: u16, seed: u64 }` as the IDL client takes and decodes it. */
export type Sampling = IdlTypes<Verity>["sampling"];

/** Largest `temperature_milli` the program accepts (Rust `MAX_TEMPERATURE_MILLI`). */
export const MAX_TEMPERATURE_MILLI = 2000;
/** Largest temperature (`MAX_TEMPERATURE_MILLI / 1000`). */
export const MAX_TEMPERATURE = MAX_TEMPERATURE_MILLI / 1000;
/** `top_p_milli` range: 1..=1000 (1000 = the whole distribution, no truncation). */
export const MIN_TOP_P_MILLI = 1;
export const MAX_TOP_P_MILLI = 1000;
const U64_MAX = (1n << 64n) - 1n;

/** Greedy decoding (Rust `Sampling::GREEDY`): temperature 0, top-p 1, seed 0. */
export const GREEDY: Readonly<Sampling> = Object.freeze({ temperatureMilli: 0, topPMilli: MAX_TOP_P_MILLI, seed: new BN(0) });

/** Whether the nodes decode greedily (temperature 0; top-p and seed are then unused). */
export const isGreedy = (s: Pick<Sampling, "temperatureMilli">) => s.temperatureMilli === 0;

/** What a user types: temperature 0..2 and top-p 0.001..1 as decimals, and an optional seed (empty = random). */
export interface SamplingInput {
  temperature: number | string;
  topP?: number | string;
  seed?: number | string | bigint | BN | null;
}

/** A uniformly random u64 seed (`crypto.getRandomValues`). */
export function randomSeed(): BN {
  const w = new Uint32Array(2);
  globalThis.crypto.getRandomValues(w);
  return new BN(((BigInt(w[0]) << 32n) | BigInt(w[1])).toString());
}

/**
 * A decimal × 1000 rounded half away from zero on its decimal digits (so "2.0005" → 2001 and 0.0005 → 1, with
 * no binary floating-point drift); NaN for anything that is not a number.
 */
export function toMilli(v: number | string): number {
  const t = typeof v === "number" ? (Number.isFinite(v) ? String(v) : "") : v.trim();
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(t);
  if (!m || (m[2] === "" && !m[3])) {
    // Exponent notation ("1e-7", as String() writes small numbers); nothing else (no hex, no "Infinity").
    return /^[+-]?(\d+\.?\d*|\.\d+)e[+-]?\d+$/i.test(t) ? Math.round(Number(t) * 1000) + 0 : NaN;
  }
  const frac = (m[3] ?? "").padEnd(4, "0");
  const abs = Number(m[2] || "0") * 1000 + Number(frac.slice(0, 3)) + (Number(frac[3]) >= 5 ? 1 : 0);
  return m[1] === "-" && abs !== 0 ? -abs : abs;
}

/** A seed as a u64, or `undefined` when none was given; throws with a clear message when it is not one. */
function parseSeed(seed: SamplingInput["seed"]): BN | undefined {
  if (seed === undefined || seed === null) return undefined;
  if (typeof seed === "string" && seed.trim() === "") return undefined;
  let v: bigint;
  if (BN.isBN(seed)) v = BigInt(seed.toString());
  else if (typeof seed === "bigint") v = seed;
  else if (typeof seed === "number") {
    if (!Number.isSafeInteger(seed)) throw new Error(`seed must be a whole number 0..${U64_MAX}`);
    v = BigInt(seed);
  } else {
    if (!/^\d+$/.test(seed.trim())) throw new Error(`seed must be a whole number 0..${U64_MAX}`);
    v = BigInt(seed.trim());
  }
  if (v < 0n || v > U64_MAX) throw new Error(`seed must be a whole number 0..${U64_MAX}`);
  return new BN(v.toString());
}

/**
 * The problems of a sampling input, in the program's ranges (after rounding to milli-units): an empty list when
 * `samplingFromUser` accepts it. Top-p is only checked when sampling (temperature > 0).
 */
export function samplingProblems(input: SamplingInput): string[] {
  const problems: string[] = [];
  const t = toMilli(input.temperature);
  if (Number.isNaN(t)) problems.push("temperature must be a number (0 = greedy)");
  else if (t < 0 || t > MAX_TEMPERATURE_MILLI) problems.push(`temperature must be 0..${MAX_TEMPERATURE} (0 = greedy)`);
  if (!Number.isNaN(t) && t > 0) {
    const p = toMilli(input.topP ?? 1);
    if (Number.isNaN(p)) problems.push("top-p must be a number");
    else if (p < MIN_TOP_P_MILLI || p > MAX_TOP_P_MILLI) problems.push("top-p must be 0.001..1 (1 = no truncation)");
  }
  try {
    parseSeed(input.seed);
  } catch (e) {
    problems.push((e as Error).message);
  }
  return problems;
}

/**
 * `SubmitRequestArgs.sampling` from user input: temperature and top-p × 1000 (rounded), validated like the
 * program (`InvalidSampling`: temperature_milli ≤ 2000, top_p_milli 1..=1000; throws the first problem). Greedy
 * (temperature 0) sends GREEDY's top-p (1000) and seed 0 unless a seed is given; sampling without a seed draws
 * a random u64 (read it back from the result to reproduce the request).
 */
export function samplingFromUser(input: SamplingInput): Sampling {
  const problems = samplingProblems(input);
  if (problems.length) throw new Error(problems[0]);
  const temperatureMilli = toMilli(input.temperature);
  const seed = parseSeed(input.seed);
  if (temperatureMilli === 0) return { ...GREEDY, seed: seed ?? new BN(0) };
  return { temperatureMilli, topPMilli: toMilli(input.topP ?? 1), seed: seed ?? randomSeed() };
}

/** "greedy", or "T 0.700 · top-p 0.950 · seed 123". */
export function formatSampling(s: { temperatureMilli: number; topPMilli: number; seed: BN | bigint | number | { toString(): string } }): string {
  if (isGreedy(s)) return "greedy";
  return `T ${(s.temperatureMilli / 1000).toFixed(3)} · top-p ${(s.topPMilli / 1000).toFixed(3)} · seed ${s.seed.toString()}`;
}
