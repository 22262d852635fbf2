//! Display helpers: lamports as SOL, token base units with decimals, short addresses, slots as seconds.
import type BN from "bn.js";
import type { PublicKey } from "@solana/web3.js";
import { SLOT_SECONDS, formatSol } from "@verity/sdk";

type Num = BN | bigint | number;
const big = (n: Num) => BigInt(n.toString());

/** Lamports as SOL with at most `digits` decimals (the SDK's `formatSol`). */
export function sol(lamports: Num, digits = 6): string {
  return formatSol(lamports, digits);
}

export function tokens(amount: Num, decimals: number, symbol = "VRT"): string {
  const v = big(amount);
  if (decimals === 0) return `${v} ${symbol}`;
  const d = 10n ** BigInt(decimals);
  const frac = (v % d).toString().padStart(decimals, "0").replace(/0+$/, "");
  return `${v / d}${frac ? "." + frac : ""} ${symbol}`;
}

/** Parses a decimal token amount ("12.5") into base units; throws on bad input. */
export function parseTokens(text: string, decimals: number): bigint {
  const t = text.trim();
  if (!/^\d+(\.\d+)?$/.test(t)) throw new Error(`"${text}" is not a number`);
  const [w, f = ""] = t.split(".");
  if (f.length > decimals) throw new Error(`at most ${decimals} decimals`);
  return BigInt(w) * 10n ** BigInt(decimals) + BigInt(f.padEnd(decimals, "0") || "0");
}

export const short = (k: PublicKey | string, n = 4) => {
  const s = typeof k === "string" ? k : k.toBase58();
  return s.length > 2 * n + 1 ? `${s.slice(0, n)}…${s.slice(-n)}` : s;
};

export const slotsToSeconds = (slots: Num) => `${(Number(big(slots)) * SLOT_SECONDS).toFixed(1)} s`;

export const pct = (num: Num, den: Num) => (big(den) === 0n ? "—" : `${((Number(big(num)) * 100) / Number(big(den))).toFixed(1)}%`);
