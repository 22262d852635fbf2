//! VerityAnchorProvider: an on-chain failure comes back as a SendTransactionError whose program error and logs
//! explainError reads; a preflight failure is web3.js's own error, untouched (a fake Connection; the integration
//! suite plays both against the real validator).
import { describe, expect, it } from "vitest";
import { Keypair, SystemProgram, Transaction } from "@solana/web3.js";
import type { Wallet } from "@coral-xyz/anchor";
import { VerityAnchorProvider } from "./provider";
import { explainError } from "./errors";

const payer = Keypair.generate();
const wallet = {
  publicKey: payer.publicKey,
  payer,
  signTransaction: async <T,>(tx: T) => {
    (tx as Transaction).partialSign(payer);
    return tx;
  },
  signAllTransactions: async <T,>(txs: T[]) => txs,
} as unknown as Wallet;
const transfer = () => new Transaction().add(SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: payer.publicKey, lamports: 1 }));
const LOGS = ["Program Veri1 invoke [1]", "Program log: AnchorError occurred. Error Code: FeeTooLow. Error Number: 6016.", "Program Veri1 failed"];

function fakeConnection(opts: { preflight?: Error; err?: unknown; logs?: string[] | null }) {
  const sent: string[] = [];
  const conn = {
    getLatestBlockhash: async () => ({ blockhash: "11111111111111111111111111111111", lastValidBlockHeight: 100 }),
    sendRawTransaction: async () => {
      if (opts.preflight) throw opts.preflight;
      sent.push("raw");
      return "sig";
    },
    confirmTransaction: async () => ({ context: { slot: 1 }, value: { err: opts.err ?? null } }),
    getTransaction: async () => (opts.logs === null ? null : { meta: { logMessages: opts.logs } }),
  };
  return { conn: conn as never, sent };
}

describe("VerityAnchorProvider.sendAndConfirm", () => {
  it("returns the signature when the transaction lands", async () => {
    const { conn, sent } = fakeConnection({});
    const sig = await new VerityAnchorProvider(conn, wallet).sendAndConfirm(transfer());
    expect(sig.length).toBeGreaterThan(40);
    expect(sent).toEqual(["raw"]);
  });

  it("an on-chain failure names the program error and carries the logs", async () => {
    const { conn } = fakeConnection({ err: { InstructionError: [0, { Custom: 6016 }] }, logs: LOGS });
    const e = await new VerityAnchorProvider(conn, wallet).sendAndConfirm(transfer()).catch((x: unknown) => x);
    const x = explainError(e);
    expect(x.name).toBe("FeeTooLow");
    expect(x.logs).toEqual(LOGS);
    expect(x.message).not.toMatch(/Unknown action/);
  });

  it("without logs (transaction not yet readable) the error JSON still names it", async () => {
    const { conn } = fakeConnection({ err: { InstructionError: [0, { Custom: 6016 }] }, logs: null });
    const e = await new VerityAnchorProvider(conn, wallet).sendAndConfirm(transfer()).catch((x: unknown) => x);
    expect(explainError(e).name).toBe("FeeTooLow");
  });

  it("a preflight failure is thrown as web3.js built it", async () => {
    const pre = new Error("failed to send transaction: Transaction simulation failed: custom program error: 0x1770");
    const { conn } = fakeConnection({ preflight: pre });
    await expect(new VerityAnchorProvider(conn, wallet).sendAndConfirm(transfer())).rejects.toBe(pre);
  });
});
