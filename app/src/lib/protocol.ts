//! Verity protocol helpers shared by the web app, the TS integration tests and the deploy migration:
//! the typed IDL client, PDA derivation (seeds from docs/PROTOCOL.md), the protocol hashes and fee maths.
import { AnchorProvider, Program, type Wallet } from "@coral-xyz/anchor";
import BN from "bn.js";
import { Connection, PublicKey } from "@solana/web3.js";
import { sha256 } from "@noble/hashes/sha2";
import idlJson from "../idl/verity.json";
import type { Verity } from "../idl/verity";

export type { Verity };
export const IDL = idlJson as unknown as Verity;
export const PROGRAM_ID = new PublicKey(idlJson.address);
export const SLOT_HASHES = new PublicKey("SysvarS1otHashes111111111111111111111111111");
export const TOKEN_PROGRAM_ID = new PublicKey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
export const ASSOCIATED_TOKEN_PROGRAM_ID = new PublicKey("ATokenGPvbdGVxr1b2hvZbsiqW5xWAw9qKqk9N5MYSAP");
export const COMMIT_DOMAIN = new TextEncoder().encode("verity-commit-v1");
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
  return new AnchorProvider(connection, wallet, { commitment: "confirmed" });
}

const enc = (s: string) => new TextEncoder().encode(s);
export function u64le(n: number | bigint | BN): Uint8Array {
  const v = BigInt(n.toString());
  if (v < 0n || v > 0xffffffffffffffffn) throw new Error(`u64 out of range: ${v}`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v, true);
  return out;
}

const pda = (seeds: Uint8Array[], programId: PublicKey) => PublicKey.findProgramAddressSync(seeds, programId)[0];
export const configPda = (p = PROGRAM_ID) => pda([enc("config")], p);
export const registryPda = (p = PROGRAM_ID) => pda([enc("registry")], p);
export const stakeVaultPda = (p = PROGRAM_ID) => pda([enc("stake_vault")], p);
export const modelPda = (modelId: number | bigint | BN, p = PROGRAM_ID) => pda([enc("model"), u64le(modelId)], p);
export const operatorPda = (authority: PublicKey, p = PROGRAM_ID) => pda([enc("operator"), authority.toBytes()], p);
export const requestPda = (requester: PublicKey, nonce: number | bigint | BN, p = PROGRAM_ID) =>
  pda([enc("request"), requester.toBytes(), u64le(nonce)], p);
export const outputPda = (request: PublicKey, p = PROGRAM_ID) => pda([enc("output"), request.toBytes()], p);
/** The escalation / challenge round of a request (at most one). */
export const disputePda = (request: PublicKey, p = PROGRAM_ID) => pda([enc("dispute"), request.toBytes()], p);
export const associatedTokenAddress = (owner: PublicKey, mint: PublicKey) =>
  pda([owner.toBytes(), TOKEN_PROGRAM_ID.toBytes(), mint.toBytes()], ASSOCIATED_TOKEN_PROGRAM_ID);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
const bytes = (b: Uint8Array | number[]) => (b instanceof Uint8Array ? b : Uint8Array.from(b));

/** `sha256(profile_hash ‖ output text as UTF-8)`. */
export function outputHash(profileHash: Uint8Array | number[], text: string | Uint8Array): Uint8Array {
  return sha256(concat([bytes(profileHash), typeof text === "string" ? enc(text) : text]));
}

/** `sha256("verity-commit-v1" ‖ request ‖ operator authority ‖ output_hash ‖ salt)`. */
export function commitmentHash(request: PublicKey, operator: PublicKey, outHash: Uint8Array, salt: Uint8Array) {
  return sha256(concat([COMMIT_DOMAIN, request.toBytes(), operator.toBytes(), outHash, salt]));
}

export const sha256Bytes = (b: Uint8Array) => sha256(b);
export const toHex = (b: Uint8Array | number[]) => Array.from(bytes(b), (x) => x.toString(16).padStart(2, "0")).join("");

/** The smallest fee the program accepts: `price_per_token × max_tokens` (lamports). */
export function minimumFee(pricePerToken: BN | bigint | number, maxTokens: number): bigint {
  return BigInt(pricePerToken.toString()) * BigInt(maxTokens);
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

/** Random 32-byte salt (WebCrypto: browser and Node ≥ 19). */
export function randomSalt(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(32));
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
  const def = (idlJson.types as { name: string; type: { kind: string; fields?: { type: IdlTy }[]; variants?: { fields?: (IdlTy | { type: IdlTy })[] }[] } }[]).find((d) => d.name === t.defined?.name);
  if (!def) return NaN;
  if (def.type.kind === "struct") return (def.type.fields ?? []).reduce((n, f) => n + idlSize(f.type), 0);
  const variant = (v: { fields?: (IdlTy | { type: IdlTy })[] }) => (v.fields ?? []).reduce((n: number, f) => n + idlSize(typeof f === "object" && "type" in f ? f.type : (f as IdlTy)), 0);
  return 1 + Math.max(0, ...(def.type.variants ?? []).map(variant));
}

/** Bytes of one committee `Member` (Rust `Member::INIT_SPACE`). */
export const MEMBER_SPACE = idlSize({ defined: { name: "Member" } });
/** `Request::space(prompt_len, uri_len, k)`: 8-byte discriminator + fixed fields + prompt + URI + (2k+1) members (≤ 15). */
export function requestSpace(promptLen: number, uriLen: number, committeeSize: number): number {
  return 8 + idlSize({ defined: { name: "Request" } }) + promptLen + uriLen + Math.min(2 * committeeSize + 1, 15) * MEMBER_SPACE;
}
/** `Output::space(capacity)`. */
export function outputSpace(capacity: number): number {
  return 8 + idlSize({ defined: { name: "Output" } }) + capacity;
}
