//! Long prompts (PROTOCOL.md "Long prompts"): a prompt longer than an inline one goes into the requester's
//! `Prompt` account first — `create_prompt`, then `write_prompt` chunks in order, one transaction each — and
//! `submit_request` names it with the prompt's sha256. `putPrompt` resumes a partly written Prompt of the same
//! prompt (a retry after a failed chunk sends only what is missing); `closePrompt` returns an unused one's rent.
import BN from "bn.js";
import type { Program } from "@coral-xyz/anchor";
import type { PublicKey } from "@solana/web3.js";
import { sha256 } from "@noble/hashes/sha2";
import type { Verity } from "./idl";
import { promptPda } from "./pda";
import { idlSize } from "./protocol";

/** The output a committee agrees on for a hash + URI prompt it cannot verify (Rust `PROMPT_UNAVAILABLE`). */
export const PROMPT_UNAVAILABLE = "[verity: prompt unavailable]";

/** Bytes per `write_prompt` transaction: fits one 1232-byte packet signed by the owner alone (~1010 would). */
export const PROMPT_CHUNK_BYTES = 900;

/** `Prompt::space(len)`: 8-byte discriminator + fixed fields + room for `len` bytes. */
export function promptSpace(len: number): number {
  return 8 + idlSize({ defined: { name: "Prompt" } }) + len;
}

/** The `[offset, end)` byte ranges of the chunks still to write after `written` bytes. */
export function promptChunks(len: number, written = 0, chunk = PROMPT_CHUNK_BYTES): [number, number][] {
  const out: [number, number][] = [];
  for (let off = written; off < len; off += chunk) out.push([off, Math.min(len, off + chunk)]);
  return out;
}

/** One transaction of a prompt upload, for progress reports. */
export interface PromptStep {
  label: string;
  index: number;
  of: number;
}

/**
 * Puts `data` into `owner`'s Prompt `nonce`: creates it (unless it exists with the same length and hash, not yet
 * attached: then resumes after what is written) and writes every missing chunk. `each` wraps every transaction
 * (the app's notice and error handling); a step that returns null stops the upload. Returns the Prompt's address
 * and the sha256 to pass to `submit_request`, or null when a step failed.
 */
export async function putPrompt(
  program: Program<Verity>,
  owner: PublicKey,
  nonce: BN,
  data: Uint8Array,
  each: (step: PromptStep, send: () => Promise<string>) => Promise<string | null> = (_, send) => send(),
): Promise<{ prompt: PublicKey; hash: number[] } | null> {
  const prompt = promptPda(owner, nonce, program.programId);
  const hash = [...sha256(data)];
  const existing = await program.account.prompt.fetchNullable(prompt);
  let written = 0;
  if (existing?.request) throw new Error(`Prompt account ${prompt.toBase58()} is already attached to request ${existing.request.toBase58()}`);
  if (existing) {
    const same = existing.len === data.length && Buffer.from(existing.hash).equals(Buffer.from(hash));
    if (!same || !Buffer.from(data.subarray(0, existing.written)).equals(Buffer.from(existing.data))) {
      throw new Error(`Prompt account ${prompt.toBase58()} already holds another prompt`);
    }
    written = existing.written;
  }
  const chunks = promptChunks(data.length, written);
  const of = chunks.length + (existing ? 0 : 1);
  let index = 0;
  if (!existing) {
    const send = () => program.methods.createPrompt(nonce, data.length, hash).accountsPartial({ owner, prompt }).rpc();
    if ((await each({ label: `Create prompt account (${data.length} B)`, index: ++index, of }, send)) === null) return null;
  }
  for (const [off, end] of chunks) {
    const send = () => program.methods.writePrompt(off, Buffer.from(data.subarray(off, end))).accountsPartial({ owner, prompt }).rpc();
    if ((await each({ label: `Write prompt bytes ${off}–${end} of ${data.length}`, index: ++index, of }, send)) === null) return null;
  }
  return { prompt, hash };
}

/** `close_prompt`: closes `owner`'s unattached Prompt, rent back to the owner. */
export function closePrompt(program: Program<Verity>, owner: PublicKey, prompt: PublicKey) {
  return program.methods.closePrompt().accountsPartial({ owner, prompt });
}
