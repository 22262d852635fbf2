//! PDA derivation for every Verity account, the seed prefixes taken from the IDL's constants (idl.ts), plus the
//! well-known program and sysvar addresses the instructions take.
import type BN from "bn.js";
import { PublicKey } from "@solana/web3.js";
import { PROGRAM_ID, SEEDS } from "./idl";

export const SLOT_HASHES = new PublicKey("SysvarS1otHashes111111111111111111111111111");
export const TOKEN_PROGRAM_ID = new PublicKey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
export const ASSOCIATED_TOKEN_PROGRAM_ID = new PublicKey("ATokenGPvbdGVxr1b2hvZbsiqW5xWAw9qKqk9N5MYSAP");

/** A u64 as 8 little-endian bytes (model ids and request nonces in seeds); throws outside 0..2^64-1. */
export function u64le(n: number | bigint | BN): Uint8Array {
  const v = BigInt(n.toString());
  if (v < 0n || v > 0xffffffffffffffffn) throw new Error(`u64 out of range: ${v}`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v, true);
  return out;
}

const pda = (seeds: Uint8Array[], programId: PublicKey) => PublicKey.findProgramAddressSync(seeds, programId)[0];
export const configPda = (p = PROGRAM_ID) => pda([SEEDS.CONFIG_SEED], p);
export const registryPda = (p = PROGRAM_ID) => pda([SEEDS.REGISTRY_SEED], p);
export const stakeVaultPda = (p = PROGRAM_ID) => pda([SEEDS.STAKE_VAULT_SEED], p);
export const modelPda = (modelId: number | bigint | BN, p = PROGRAM_ID) => pda([SEEDS.MODEL_SEED, u64le(modelId)], p);
export const operatorPda = (authority: PublicKey, p = PROGRAM_ID) => pda([SEEDS.OPERATOR_SEED, authority.toBytes()], p);
export const requestPda = (requester: PublicKey, nonce: number | bigint | BN, p = PROGRAM_ID) =>
  pda([SEEDS.REQUEST_SEED, requester.toBytes(), u64le(nonce)], p);
export const outputPda = (request: PublicKey, p = PROGRAM_ID) => pda([SEEDS.OUTPUT_SEED, request.toBytes()], p);
/** The escalation / challenge round of a request (at most one). */
export const disputePda = (request: PublicKey, p = PROGRAM_ID) => pda([SEEDS.DISPUTE_SEED, request.toBytes()], p);
/** The signer `deliver_callback` signs a request's callback CPI with (callback programs check it). */
export const callbackPda = (request: PublicKey, p = PROGRAM_ID) => pda([SEEDS.CALLBACK_SEED, request.toBytes()], p);
/** A long prompt written in chunks before submit (`create_prompt`, `write_prompt`). */
export const promptPda = (owner: PublicKey, nonce: number | bigint | BN, p = PROGRAM_ID) =>
  pda([SEEDS.PROMPT_SEED, owner.toBytes(), u64le(nonce)], p);
export const associatedTokenAddress = (owner: PublicKey, mint: PublicKey) =>
  pda([owner.toBytes(), TOKEN_PROGRAM_ID.toBytes(), mint.toBytes()], ASSOCIATED_TOKEN_PROGRAM_ID);
