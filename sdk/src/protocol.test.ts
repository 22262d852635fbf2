//! Unit checks of the SDK's protocol helpers against independent computations (node:crypto, web3.js).
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Connection, Keypair, PublicKey } from "@solana/web3.js";
import BN from "bn.js";
import * as P from "./index";

const nodeSha = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  parts.forEach((p) => h.update(p));
  return new Uint8Array(h.digest());
};

describe("protocol helpers", () => {
  it("IDL client knows every instruction, account and event, and the generated types match it", () => {
    const program = P.verityProgram(P.readOnlyProvider(new Connection("http://127.0.0.1:1")));
    const names = program.idl.instructions.map((i) => i.name);
    expect(names).toContain("submitRequest");
    expect(names).toContain("revealAndFinalize");
    expect(names).toHaveLength(34);
    for (const n of names) expect(typeof (program.methods as any)[n]).toBe("function");
    expect(Object.keys(program.account).sort()).toEqual(["config", "dispute", "model", "operator", "operatorRegistry", "output", "prompt", "request"]);
    expect(program.idl.events).toHaveLength(35);
    expect(program.programId.toBase58()).toBe("3xSXJgkiyCPtC9bg2dz1Mn8ZtZuVi5e8mKt6eSfhELKx");
    // verity.ts (the `Verity` type) must be exactly the camelCased IDL Anchor builds at runtime.
    const ts = readFileSync(join(__dirname, "idl/verity.ts"), "utf8");
    const typed = JSON.parse(ts.slice(ts.indexOf("= {") + 2, ts.lastIndexOf(";")));
    expect(typed).toEqual(JSON.parse(JSON.stringify(program.idl)));
  });

  it("u64le encodes little-endian and rejects out-of-range values", () => {
    expect(Array.from(P.u64le(0x0102n))).toEqual([2, 1, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(P.u64le(new BN("18446744073709551615")))).toEqual(Array(8).fill(255));
    expect(() => P.u64le(-1n)).toThrow(/out of range/);
    expect(() => P.u64le(1n << 64n)).toThrow(/out of range/);
  });

  it("PDAs use the documented seeds", () => {
    const pid = P.PROGRAM_ID;
    const enc = (s: string) => Buffer.from(s);
    expect(P.configPda().equals(PublicKey.findProgramAddressSync([enc("config")], pid)[0])).toBe(true);
    const who = Keypair.generate().publicKey;
    const nonce = Buffer.alloc(8);
    nonce.writeBigUInt64LE(7n);
    const req = PublicKey.findProgramAddressSync([enc("request"), who.toBuffer(), nonce], pid)[0];
    expect(P.requestPda(who, 7).equals(req)).toBe(true);
    expect(P.requestPda(who, 8).equals(req)).toBe(false);
    expect(P.outputPda(req).equals(PublicKey.findProgramAddressSync([enc("output"), req.toBuffer()], pid)[0])).toBe(true);
    expect(P.disputePda(req).equals(PublicKey.findProgramAddressSync([enc("dispute"), req.toBuffer()], pid)[0])).toBe(true);
    expect(P.operatorPda(who).equals(PublicKey.findProgramAddressSync([enc("operator"), who.toBuffer()], pid)[0])).toBe(true);
    const other = Keypair.generate().publicKey;
    expect(P.configPda(other).equals(P.configPda())).toBe(false);
  });

  it("output hash and commitment are sha256 over the documented concatenations", () => {
    const profile = new Uint8Array(32).fill(7);
    const oh = P.outputHash(profile, "héllo");
    expect(P.toHex(oh)).toBe(P.toHex(nodeSha(profile, Buffer.from("héllo", "utf8"))));
    const [r, o] = [Keypair.generate().publicKey, Keypair.generate().publicKey];
    const salt = new Uint8Array(32).fill(9);
    const c = P.commitmentHash(r, o, oh, salt);
    expect(P.toHex(c)).toBe(P.toHex(nodeSha(Buffer.from("verity-commit-v1"), r.toBytes(), o.toBytes(), oh, salt)));
    expect(P.toHex(P.commitmentHash(o, r, oh, salt))).not.toBe(P.toHex(c));
  });

  it("fee maths: minimum fee and a conserving split", () => {
    expect(P.minimumFee(new BN(1500), 32)).toBe(48_000n);
    for (const [fee, roy, prot, n] of [[1_000_003n, 500, 1000, 3], [7n, 5000, 5000, 2], [99_999n, 0, 0, 1]] as const) {
      const s = P.feeSplit(fee, roy, prot, n);
      expect(s.royalty + s.perMember * BigInt(n) + s.treasury).toBe(fee);
      expect(s.treasury).toBeGreaterThanOrEqual(s.protocol);
    }
  });

  it("account sizes grow with prompt, URI, committee and capacity", () => {
    expect(P.requestSpace(10, 0, 3) - P.requestSpace(0, 0, 3)).toBe(10);
    expect(P.requestSpace(0, 0, 4) - P.requestSpace(0, 0, 3)).toBe(P.MEMBER_SPACE); // k member slots, not 2k+1
    expect(P.requestSpace(0, 0, P.MAX_MEMBERS)).toBe(P.requestSpace(0, 0, P.MAX_MEMBERS + 1)); // capped at 15 member slots
    expect(P.outputSpace(100) - P.outputSpace(0)).toBe(100);
    // Sizes come from the IDL (Anchor InitSpace with empty vecs/strings): Member and Output as the program has them.
    expect(P.MEMBER_SPACE).toBe(147);
    expect(P.outputSpace(0)).toBe(8 + 86); // request, capacity, total_len, complete, last_writer, last_write_slot, bump, data len
  });

  it("variant names Anchor's decoded enums", () => {
    expect(P.variant({ finalized: {} })).toBe("finalized");
    expect(P.variant("x")).toBe("x");
  });
});
