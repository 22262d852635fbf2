//! The PDA seeds come from the IDL's `constants` (the program's `#[constant]`s), and a missing or malformed one fails loudly.
import { describe, expect, it } from "vitest";
import { Connection, Keypair, PublicKey } from "@solana/web3.js";
import { IDL_JSON, idlBytesConstant, idlSeeds, PROGRAM_ID, SEED_NAMES, SEEDS } from "./idl";
import { callbackPda } from "./pda";
import { readOnlyProvider, verityProgram } from "./protocol";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("IDL seed constants", () => {
  it("every seed is a bytes constant of the committed IDL with the documented value", () => {
    expect(Object.fromEntries(SEED_NAMES.map((n) => [n, text(SEEDS[n])]))).toEqual({
      CONFIG_SEED: "config", REGISTRY_SEED: "registry", STAKE_VAULT_SEED: "stake_vault", MODEL_SEED: "model", OPERATOR_SEED: "operator",
      REQUEST_SEED: "request", OUTPUT_SEED: "output", DISPUTE_SEED: "dispute", CALLBACK_SEED: "callback", PROMPT_SEED: "prompt",
    });
    const names = (IDL_JSON as { constants?: { name: string }[] }).constants?.map((c) => c.name) ?? [];
    for (const n of SEED_NAMES) expect(names).toContain(n);
    // The client's IDL carries them too, camelCased as Anchor converts names (and as the `Verity` type has them).
    const program = verityProgram(readOnlyProvider(new Connection("http://127.0.0.1:1")));
    expect(program.idl.constants.map((c) => c.name)).toContain("configSeed");
  });

  it("a missing or malformed constant throws, naming it", () => {
    expect(() => idlSeeds(undefined)).toThrow(/IDL constant CONFIG_SEED is missing/);
    const ok = SEED_NAMES.map((name) => ({ name, type: "bytes", value: "[1, 2]" }));
    expect(() => idlSeeds(ok.filter((c) => c.name !== "CALLBACK_SEED"))).toThrow(/CALLBACK_SEED is missing/);
    expect(() => idlBytesConstant([{ name: "X", type: "u64", value: "7" }], "X")).toThrow(/X is not a byte string/);
    expect(() => idlBytesConstant([{ name: "X", type: "bytes", value: "[1, 256]" }], "X")).toThrow(/not a byte string/);
    expect(Array.from(idlBytesConstant([{ name: "X", type: "bytes", value: "[1, 255]" }], "X"))).toEqual([1, 255]);
  });

  it("callback signer PDA: [callback, request]", () => {
    const req = Keypair.generate().publicKey;
    expect(callbackPda(req).equals(PublicKey.findProgramAddressSync([Buffer.from("callback"), req.toBuffer()], PROGRAM_ID)[0])).toBe(true);
  });
});
