//! Operator earnings: the unlock slot of both rounds, which members' rewards are owed and when, and "Claim all"
//! (claims chunked CLAIMS_PER_TX to a transaction that fits, sent through the provider) on the real IDL client
//! with a fake provider (no network).
import { describe, expect, it, vi } from "vitest";
import BN from "bn.js";
import { Connection, Keypair, PublicKey, Transaction } from "@solana/web3.js";
import { IDL_JSON } from "./idl";
import { readOnlyProvider, verityProgram } from "./protocol";
import { CLAIMS_PER_TX, claimableAt, claimEarnings, claimTransactions, earningsFrom, earningsTotal, unlockSlot, type Earning } from "./earnings";

const A = Keypair.generate().publicKey;
const B = Keypair.generate().publicKey;
const member = (operator: PublicKey, reward: number, claimed = false) => ({ operator, reward: new BN(reward), claimed });
const request = (status: string, members: ReturnType<typeof member>[], finalizedSlot = 100, round = 0, disputeWindow = 50) => ({
  publicKey: PublicKey.unique(),
  account: { status: { [status]: {} }, round, finalizedSlot: new BN(finalizedSlot), terms: { disputeWindow: new BN(disputeWindow) }, committee: { members } },
}) as any;
const dispute = (phase: string, members: ReturnType<typeof member>[], resolvedSlot = 0) => ({
  publicKey: PublicKey.unique(),
  account: { request: PublicKey.unique(), phase: { [phase]: {} }, resolvedSlot: new BN(resolvedSlot), committee: { members } },
}) as any;
const earning = (unlock: number, amount = 1n, second = false): Earning => ({
  request: PublicKey.unique(),
  dispute: second ? PublicKey.unique() : null,
  amount,
  unlockSlot: unlock,
  round: second ? "second" : "first",
});
const discriminator = (name: string) => Buffer.from(IDL_JSON.instructions.find((i) => i.name === name)!.discriminator);
const program = verityProgram(readOnlyProvider(new Connection("http://127.0.0.1:1")));

describe("earnings", () => {
  it("unlock slot: after the dispute window in round 0, at the resolution once a second round ran", () => {
    expect(unlockSlot({ round: 0, finalizedSlot: new BN(100), terms: { disputeWindow: new BN(50) } })).toBe(150);
    expect(unlockSlot({ round: 1, finalizedSlot: new BN(100), terms: { disputeWindow: new BN(50) } })).toBe(100);
    expect(unlockSlot({ round: 0, finalizedSlot: new BN(7), terms: { disputeWindow: new BN(0) } })).toBe(7);
  });

  it("owed: unclaimed non-zero rewards of the authority in Finalized requests and Resolved disputes, by unlock slot", () => {
    const r1 = request("finalized", [member(B, 7), member(A, 5)], 100, 0, 50);
    const claimed = request("finalized", [member(A, 5, true)]);
    const minority = request("finalized", [member(A, 0), member(B, 9)]);
    const disputed = request("disputed", [member(A, 9)]);
    const revealing = request("revealing", [member(A, 9)]);
    const afterDispute = request("finalized", [member(A, 11)], 300, 1, 50);
    const d1 = dispute("resolved", [member(B, 1), member(A, 3)], 120);
    const open = dispute("revealing", [member(A, 4)], 0);
    const got = earningsFrom(A, [r1, claimed, minority, disputed, revealing, afterDispute], [d1, open]);
    expect(got).toEqual([
      { request: d1.account.request, dispute: d1.publicKey, amount: 3n, unlockSlot: 120, round: "second" },
      { request: r1.publicKey, dispute: null, amount: 5n, unlockSlot: 150, round: "first" },
      { request: afterDispute.publicKey, dispute: null, amount: 11n, unlockSlot: 300, round: "first" },
    ]);
    expect(earningsTotal(got)).toBe(19n);
    expect(earningsFrom(B, [r1, minority], [d1]).map((e) => e.amount)).toEqual([1n, 7n, 9n]);
    expect(earningsFrom(Keypair.generate().publicKey, [r1], [d1])).toEqual([]);
  });

  it("claimable at a slot: those whose unlock slot is ≤ it", () => {
    const es = [earning(120), earning(150), earning(300)];
    expect(claimableAt(es, 119)).toEqual([]);
    expect(claimableAt(es, 149)).toEqual([es[0]]);
    expect(claimableAt(es, 150)).toEqual([es[0], es[1]]);
    expect(claimableAt(es, 10_000)).toEqual(es);
  });

  it("claim transactions: CLAIMS_PER_TX claims each, in order, the right instruction and accounts for each round", async () => {
    expect(CLAIMS_PER_TX).toBe(8);
    const payer = Keypair.generate().publicKey;
    const es = Array.from({ length: 17 }, (_, i) => earning(i, 1n, i % 5 === 4));
    const txs = await claimTransactions(program, A, es, payer);
    expect(txs.map((t) => t.instructions.length)).toEqual([8, 8, 1]);
    const ixs = txs.flatMap((t) => t.instructions);
    ixs.forEach((ix, i) => {
      const e = es[i];
      expect(ix.programId.equals(program.programId)).toBe(true);
      expect(ix.data.subarray(0, 8)).toEqual(discriminator(e.dispute ? "claim_dispute_reward" : "claim_reward"));
      expect(ix.keys.map((k) => [k.pubkey.toBase58(), k.isWritable, k.isSigner])).toEqual([
        [A.toBase58(), true, false],
        [(e.dispute ?? e.request).toBase58(), true, false],
      ]);
    });
    for (const t of txs) expect(t.feePayer?.equals(payer)).toBe(true);
    expect((await claimTransactions(program, A, es.slice(0, 8)))[0].feePayer).toBeUndefined();
    expect(await claimTransactions(program, A, [])).toEqual([]);
  });

  it("a full claim transaction (distinct escrows, another wallet paying) fits in a packet", async () => {
    const payer = Keypair.generate();
    const [tx] = await claimTransactions(program, A, Array.from({ length: CLAIMS_PER_TX }, () => earning(0)), payer.publicKey);
    tx.recentBlockhash = PublicKey.unique().toBase58();
    tx.sign(payer);
    const size = tx.serialize().length;
    expect(size).toBeLessThanOrEqual(1232);
    expect(size).toBeGreaterThan(400);
  });

  it("claimEarnings sends the claims unlocked at the current slot through the provider, 8 a transaction", async () => {
    const wallet = Keypair.generate().publicKey;
    const sent: Transaction[] = [];
    const provider = {
      publicKey: wallet,
      connection: { getSlot: async () => 200 },
      sendAndConfirm: vi.fn(async (tx: Transaction) => (sent.push(tx), `sig${sent.length}`)),
    };
    const p = verityProgram(provider as any);
    const ready = Array.from({ length: 9 }, (_, i) => request("finalized", [member(A, 10 + i)], 100 + i, 0, 50));
    const locked = request("finalized", [member(A, 1000)], 151, 0, 50); // unlocks at 201
    const d = dispute("resolved", [member(A, 1)], 200);
    vi.spyOn(p.account.request, "all").mockResolvedValue([locked, ...ready]);
    vi.spyOn(p.account.dispute, "all").mockResolvedValue([d]);
    const r = await claimEarnings(p, A);
    expect(r).toEqual({ signatures: ["sig1", "sig2"], claimed: 10, lamports: 1n + BigInt(9 * 10 + 36) });
    expect(sent.map((t) => t.instructions.length)).toEqual([8, 2]);
    for (const t of sent) expect(t.feePayer?.equals(wallet)).toBe(true);
    const escrows = sent.flatMap((t) => t.instructions.map((ix) => ix.keys[1].pubkey.toBase58()));
    expect(escrows).not.toContain(locked.publicKey.toBase58());
    expect(escrows).toContain(d.publicKey.toBase58());

    // A failing transaction is thrown as the provider threw it, after the ones before it.
    const boom = new Error("AlreadyClaimed");
    provider.sendAndConfirm.mockReset();
    provider.sendAndConfirm.mockResolvedValueOnce("ok").mockRejectedValueOnce(boom);
    await expect(claimEarnings(p, A)).rejects.toBe(boom);
    expect(provider.sendAndConfirm).toHaveBeenCalledTimes(2);
  });
});
