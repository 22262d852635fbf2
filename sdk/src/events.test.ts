//! Log normalization and event decoding, on the log shapes seen from the native localnet and from SBF clusters.
import { describe, expect, it } from "vitest";
import { Connection, Keypair } from "@solana/web3.js";
import BN from "bn.js";
import { normalizeLogs, parseEvents } from "./events";
import { PROGRAM_ID } from "./idl";
import { readOnlyProvider, verityProgram } from "./protocol";

const V = PROGRAM_ID.toBase58();
const T = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
const program = verityProgram(readOnlyProvider(new Connection("http://127.0.0.1:1")));

/** A real `Program data:` line for OperatorStaked, built with the IDL's discriminator and layout. */
function stakedLine(amount: number) {
  const ev = program.idl.events.find((e) => e.name === "operatorStaked")!;
  const coder = program.coder as any;
  const layout = coder.types.typeLayouts?.get?.("operatorStaked") ?? (coder.events as any).layouts?.get("operatorStaked");
  const buf = Buffer.alloc(200);
  const len = layout.encode({ authority: Keypair.generate().publicKey, amount: new BN(amount), stake: new BN(amount) }, buf);
  return `Program data: ${Buffer.concat([Buffer.from(ev.discriminator), buf.subarray(0, len)]).toString("base64")}`;
}

describe("normalizeLogs / parseEvents", () => {
  it("leaves standard SBF logs untouched", () => {
    const logs = [`Program ${V} invoke [1]`, `Program ${T} invoke [2]`, `Program ${T} success`, "Program data: AA==", `Program ${V} success`, `Program ${V} invoke [1]`, `Program ${V} success`];
    expect(normalizeLogs(logs)).toEqual(logs);
  });

  it("removes the native runtime's doubled lines and CPI echo", () => {
    const native = [`Program ${V} invoke [1]`, `Program ${V} invoke [1]`, `Program ${T} invoke [1]`, `Program ${T} invoke [2]`, `Program ${T} consumed 233 of 199549 compute units`, `Program ${T} success`, `Program ${T} success`, "Program data: AA==", `Program ${V} success`, `Program ${V} success`];
    expect(normalizeLogs(native)).toEqual([`Program ${V} invoke [1]`, `Program ${T} invoke [2]`, `Program ${T} consumed 233 of 199549 compute units`, `Program ${T} success`, "Program data: AA==", `Program ${V} success`]);
  });

  it("decodes an event from both shapes; garbage yields nothing instead of throwing", () => {
    const data = stakedLine(42);
    for (const logs of [
      [`Program ${V} invoke [1]`, `Program ${T} invoke [2]`, `Program ${T} success`, data, `Program ${V} success`],
      [`Program ${V} invoke [1]`, `Program ${V} invoke [1]`, `Program ${T} invoke [1]`, `Program ${T} invoke [2]`, `Program ${T} success`, `Program ${T} success`, data, `Program ${V} success`, `Program ${V} success`],
    ]) {
      const evs = parseEvents(program, logs);
      expect(evs.map((e) => e.name)).toEqual(["operatorStaked"]);
      expect(evs[0].data.amount.toNumber()).toBe(42);
    }
    expect(parseEvents(program, ["nonsense", `Program ${V} success`])).toEqual([]);
  });
});
