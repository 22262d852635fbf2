//! Program events seen by the tests: live over websocket (`logsSubscribe`) and from transaction history
//! (`getSignaturesForAddress` + `getTransaction`), decoded with the IDL's event coder.
import type { Program } from "@coral-xyz/anchor";
import { parseEvents, type Verity } from "@verity/sdk";
import { appendFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Connection, PublicKey } from "@solana/web3.js";
import { localnetPath } from "./localnet";

export interface SeenEvent {
  name: string;
  data: Record<string, any>;
  signature: string;
}

/** Where every test file records the events it saw live, for the coverage check in 5-events.test.ts. */
export const seenFile = () => join(dirname(localnetPath()), "events-seen.jsonl");

/** Subscribes to the program's logs and decodes every event until `stop()` (also recorded in `seenFile()`). */
export function subscribeEvents(program: Program<Verity>) {
  const conn = program.provider.connection;
  const events: SeenEvent[] = [];
  const signatures = new Set<string>(); // a signature may be notified more than once: count its events once
  const id = conn.onLogs(
    program.programId,
    (l) => {
      if (l.err || signatures.has(l.signature)) return;
      signatures.add(l.signature);
      for (const e of parseEvents(program, l.logs)) {
        events.push({ ...e, signature: l.signature });
        appendFileSync(seenFile(), JSON.stringify({ name: e.name, fields: Object.keys(e.data), signature: l.signature }) + "\n");
      }
    },
    "confirmed",
  );
  return {
    events,
    /** Waits until `pred` holds for some event (websocket delivery is asynchronous). */
    async waitFor(pred: (e: SeenEvent) => boolean, timeoutMs = 15_000): Promise<SeenEvent> {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const hit = events.find(pred);
        if (hit) return hit;
        if (Date.now() > end) throw new Error(`event not seen within ${timeoutMs} ms; seen: ${events.map((e) => e.name).join(", ")}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop: () => conn.removeOnLogsListener(id),
  };
}

/** Every event in the transaction history of `address` (oldest first). */
export async function historyEvents(connection: Connection, program: Program<Verity>, address: PublicKey): Promise<SeenEvent[]> {
  const sigs: string[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await connection.getSignaturesForAddress(address, { before, limit: 1000 }, "confirmed");
    sigs.push(...page.filter((s) => !s.err).map((s) => s.signature));
    if (page.length < 1000) break;
    before = page[page.length - 1].signature;
  }
  const out: SeenEvent[] = [];
  for (const signature of sigs.reverse()) {
    // A signature just listed may not be returned until its slot is rooted (~32 slots on this localnet).
    let tx = await connection.getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
    for (let i = 0; !tx && i < 60; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      tx = await connection.getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
    }
    if (!tx) throw new Error(`getTransaction(${signature}) returned null`);
    for (const e of parseEvents(program, tx.meta?.logMessages ?? [])) out.push({ ...e, signature });
  }
  return out;
}
