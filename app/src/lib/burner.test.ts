//! The burner wallet: persisted keypair, connect/disconnect events, and signatures that verify.
import { describe, expect, it } from "vitest";
import { Keypair, PublicKey, SystemProgram, Transaction } from "@solana/web3.js";
import { BurnerWalletAdapter, loadBurnerKeypair } from "./burner";

class MemStorage {
  m = new Map<string, string>();
  getItem(k: string) { return this.m.get(k) ?? null; }
  setItem(k: string, v: string) { this.m.set(k, v); }
}

describe("burner wallet", () => {
  it("keeps one keypair per storage and replaces a corrupt entry", () => {
    const s = new MemStorage() as unknown as Storage;
    const a = loadBurnerKeypair(s);
    expect(loadBurnerKeypair(s).publicKey.equals(a.publicKey)).toBe(true);
    s.setItem("verity.burner.secretKey", "garbage");
    expect(loadBurnerKeypair(s).publicKey.equals(a.publicKey)).toBe(false);
  });

  it("signs transactions only when connected", async () => {
    (globalThis as any).localStorage = new MemStorage();
    const w = new BurnerWalletAdapter();
    const tx = new Transaction({ recentBlockhash: Keypair.generate().publicKey.toBase58(), feePayer: PublicKey.default });
    await expect(w.signTransaction(tx)).rejects.toThrow();
    let connected: PublicKey | null = null;
    w.on("connect", (pk) => (connected = pk));
    await w.connect();
    expect(connected!.equals(w.publicKey!)).toBe(true);
    const t = new Transaction({ recentBlockhash: Keypair.generate().publicKey.toBase58(), feePayer: w.publicKey! });
    t.add(SystemProgram.transfer({ fromPubkey: w.publicKey!, toPubkey: Keypair.generate().publicKey, lamports: 1 }));
    const signed = await w.signTransaction(t);
    expect(signed.verifySignatures()).toBe(true);
    await w.disconnect();
    expect(w.publicKey).toBeNull();
  });
});
