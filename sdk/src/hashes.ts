//! The protocol's hashes as the program and the oracle compute them (docs/PROTOCOL.md "Profile hash and output
//! hash"): the output hash, the commit-reveal commitment, and the byte helpers around them.
import { sha256 } from "@noble/hashes/sha2";
import type { PublicKey } from "@solana/web3.js";

/** Domain separator of commitments (Rust `COMMIT_DOMAIN`). */
export const COMMIT_DOMAIN = new TextEncoder().encode("verity-commit-v1");

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
  return sha256(concat([bytes(profileHash), typeof text === "string" ? new TextEncoder().encode(text) : text]));
}

/** `sha256("verity-commit-v1" ‖ request ‖ operator authority ‖ output_hash ‖ salt)`. */
export function commitmentHash(request: PublicKey, operator: PublicKey, outHash: Uint8Array, salt: Uint8Array) {
  return sha256(concat([COMMIT_DOMAIN, request.toBytes(), operator.toBytes(), outHash, salt]));
}

export const sha256Bytes = (b: Uint8Array) => sha256(b);
export const toHex = (b: Uint8Array | number[]) => Array.from(bytes(b), (x) => x.toString(16).padStart(2, "0")).join("");

/** Random 32-byte salt (WebCrypto: browser and Node ≥ 19). */
export function randomSalt(): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(32));
}
