//! Verity protocol helpers shared by the web app, the TS integration tests and the deploy migration: the typed
//! IDL client (`Program<Verity>`), fee maths, account sizes from the IDL, enum variants and request nonces.
import { type AnchorProvider, Program, type Wallet } from "@coral-xyz/anchor";
import BN from "bn.js";
import { Connection, PublicKey } from "@solana/web3.js";
import { IDL, IDL_JSON, PROGRAM_ID, type Verity } from "./idl";
import { VerityAnchorProvider } from "./provider";

/** Slot duration the UI assumes when turning slots into seconds (Solana's target). */
export const SLOT_SECONDS = 0.4;

/** Builds the Anchor client for the committed IDL (optionally at another program id). */
export function verityProgram(provider: AnchorProvider, programId: PublicKey = PROGRAM_ID): Program<Verity> {
  const idl = programId.equals(PROGRAM_ID) ? IDL : ({ ...IDL, address: programId.toBase58() } as Verity);
  return new Program<Verity>(idl, provider);
}

/** A provider for read-only use (no wallet connected): signing throws. */
export function readOnlyProvider(connection: Connection): AnchorProvider {
  const wallet: Wallet = {
    publicKey: PublicKey.default,
    signTransaction: () => Promise.reject(new Error("Connect a wallet first")),
    signAllTransactions: () => Promise.reject(new Error("Connect a wallet first")),
  } as unknown as Wallet;
  return new VerityAnchorProvider(connection, wallet);
}

/** The smallest fee the program accepts: `price_per_token × max_tokens` (lamports). */
export function minimumFee(pricePerToken: BN | bigint | number, maxTokens: number): bigint {
  return BigInt(pricePerToken.toString()) * BigInt(maxTokens);
}

/** Largest inline prompt (Rust `MAX_PROMPT_BYTES`): longer ones (up to the model's max_input_bytes) travel in a
 * `Prompt` account. */
export const MAX_INLINE_PROMPT_BYTES = 640;

/** Tokens in the unit prices are quoted per in the app (`price_per_token × 1000`). */
export const PRICE_UNIT_TOKENS = 1000;

/** Price of 1000 output tokens in lamports, from a model's `price_per_token` (lamports). */
export function pricePer1k(pricePerToken: BN | bigint | number): bigint {
  return BigInt(pricePerToken.toString()) * BigInt(PRICE_UNIT_TOKENS);
}

/** Lamports as SOL with at most `digits` decimals, trailing zeros dropped (1_500_000 → "0.0015 SOL"). */
export function formatSol(lamports: BN | bigint | number, digits = 9): string {
  const v = BigInt(lamports.toString());
  const sign = v < 0n ? "-" : "";
  const a = v < 0n ? -v : v;
  const frac = (a % 1_000_000_000n).toString().padStart(9, "0").slice(0, digits).replace(/0+$/, "");
  return `${sign}${a / 1_000_000_000n}${frac ? "." + frac : ""} SOL`;
}

/** A model's price as "0.001 SOL / 1k tokens" (exact: 9 decimals = 1 lamport). */
export function formatPricePer1k(pricePerToken: BN | bigint | number): string {
  return `${formatSol(pricePer1k(pricePerToken))} / 1k tokens`;
}

const U64_MAX = (1n << 64n) - 1n;

/**
 * The receipt's compute estimate (Rust `ComputeReceipt::set_counts`): ≈ 2 × param_count × (tokens_in + tokens_out)
 * FLOPs — one forward pass per token — saturating at u64::MAX like the program; 0 when the parameter count is unknown.
 */
export function approxFlops(paramCount: BN | bigint | number, tokensIn: number, tokensOut: number): bigint {
  const f = 2n * BigInt(paramCount.toString()) * (BigInt(tokensIn) + BigInt(tokensOut));
  return f > U64_MAX ? U64_MAX : f;
}

const SI = ["", "k", "M", "G", "T", "P", "E", "Z"];
/** A count with an SI prefix and 3 significant digits: 134_515_008 → "135M", 10_761_200_640 → "10.8G". */
export function formatSi(n: BN | bigint | number): string {
  let v = Number(BigInt(n.toString()));
  let i = 0;
  while (Math.abs(v) >= 999.5 && i < SI.length - 1) (v /= 1000), i++;
  return `${i === 0 ? String(v) : v.toPrecision(3).replace(/\.0+$|(\.\d*?)0+$/, "$1")}${SI[i]}`;
}

/** FLOPs for display: "≈10.8 GFLOP", or "unknown" for 0 (the model registered no parameter count). */
export function formatFlops(flops: BN | bigint | number): string {
  if (BigInt(flops.toString()) === 0n) return "unknown";
  const [, num, prefix] = /^(.*?)([kMGTPEZ]?)$/.exec(formatSi(flops))!;
  return `≈${num} ${prefix}FLOP`;
}

/** Fee split at finalize for a majority of `agreeCount` (PROTOCOL.md "finalize_request"). */
export function feeSplit(fee: bigint, royaltyBps: number, protocolFeeBps: number, agreeCount: number) {
  const royalty = (fee * BigInt(royaltyBps)) / 10_000n;
  const protocol = (fee * BigInt(protocolFeeBps)) / 10_000n;
  const rest = fee - royalty - protocol;
  const perMember = agreeCount > 0 ? rest / BigInt(agreeCount) : 0n;
  return { royalty, protocol, perMember, treasury: protocol + rest - perMember * BigInt(agreeCount) };
}

/** Anchor decodes Rust enums as `{ variantName: {} }`; this returns the variant's name. */
export function variant(e: unknown): string {
  if (e && typeof e === "object") {
    const k = Object.keys(e as object)[0];
    if (k) return k;
  }
  return String(e);
}

/** A fresh request nonce: milliseconds since epoch × 1000 + random, unique per requester in practice. */
export function freshNonce(): BN {
  return new BN(Date.now()).muln(1000).addn(Math.floor(Math.random() * 1000));
}

type IdlTy = string | { option?: IdlTy; vec?: IdlTy; array?: [IdlTy, number]; defined?: { name: string } };
const PRIM: Record<string, number> = { bool: 1, u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, u64: 8, i64: 8, f64: 8, u128: 16, i128: 16, pubkey: 32 };
/**
 * Borsh size of an IDL type as Anchor's `InitSpace` counts it, with every `Vec`/`String`/`bytes` empty (its
 * 4-byte length only) and every enum as its largest variant. Derived from the committed IDL so that a layout
 * change in the program cannot silently skew the rent estimate.
 */
export function idlSize(t: IdlTy): number {
  if (typeof t === "string") return t === "string" || t === "bytes" ? 4 : PRIM[t] ?? NaN;
  if (t.option !== undefined) return 1 + idlSize(t.option);
  if (t.vec !== undefined) return 4;
  if (t.array) return t.array[1] * idlSize(t.array[0]);
  const def = (IDL_JSON.types as { name: string; type: { kind: string; fields?: { type: IdlTy }[]; variants?: { fields?: (IdlTy | { type: IdlTy })[] }[] } }[]).find((d) => d.name === t.defined?.name);
  if (!def) return NaN;
  if (def.type.kind === "struct") return (def.type.fields ?? []).reduce((n, f) => n + idlSize(f.type), 0);
  const variant = (v: { fields?: (IdlTy | { type: IdlTy })[] }) => (v.fields ?? []).reduce((n: number, f) => n + idlSize(typeof f === "object" && "type" in f ? f.type : (f as IdlTy)), 0);
  return 1 + Math.max(0, ...(def.type.variants ?? []).map(variant));
}

/** Bytes of one committee `Member` (Rust `Member::INIT_SPACE`). */
export const MEMBER_SPACE = idlSize({ defined: { name: "Member" } });
/** Most committee members an account holds (Rust `MAX_MEMBERS`). */
export const MAX_MEMBERS = 15;
/**
 * `Request::space(prompt_len, uri_len, k)`: 8-byte discriminator + fixed fields + prompt + URI + room for the
 * first committee's k members (≤ `MAX_MEMBERS`; a dispute's 2k+1 live in the Dispute account).
 */
export function requestSpace(promptLen: number, uriLen: number, committeeSize: number): number {
  return 8 + idlSize({ defined: { name: "Request" } }) + promptLen + uriLen + Math.min(committeeSize, MAX_MEMBERS) * MEMBER_SPACE;
}
/** `Output::space(capacity)`. */
export function outputSpace(capacity: number): number {
  return 8 + idlSize({ defined: { name: "Output" } }) + capacity;
}
