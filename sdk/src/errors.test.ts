//! explainError: program errors by name/code from the IDL, framework errors, balance, wallet, cluster, network.
import { describe, expect, it } from "vitest";
import { explainError, programErrorName } from "./errors";

describe("explainError", () => {
  it("names program errors from an AnchorError", () => {
    const e = { error: { errorCode: { code: "FeeTooLow", number: 6016 } }, message: "AnchorError", logs: ["Program log: x"] };
    const x = explainError(e);
    expect(x.kind).toBe("program");
    expect(x.name).toBe("FeeTooLow");
    expect(x.message).toMatch(/FeeTooLow \(6016\)/);
    expect(x.logs).toEqual(["Program log: x"]);
  });

  it("names program errors from a raw custom-error simulation failure", () => {
    const x = explainError(new Error("failed to send transaction: Transaction simulation failed: Error processing Instruction 0: custom program error: 0x1770"));
    expect(x.name).toBe("Unauthorized");
    expect(x.code).toBe(6000);
    expect(explainError({ message: "x", logs: ['{"InstructionError":[0,{"Custom":6061}]}'] }).name).toBe("AssignWindowClosed");
  });

  it("follows the PROTOCOL.md error table", () => {
    const expected: Record<number, string> = { 6001: "ProtocolPaused", 6010: "PromptTooLarge", 6031: "NotEnoughOperators", 6040: "CommitmentMismatch", 6061: "AssignWindowClosed" };
    for (const [code, name] of Object.entries(expected)) expect(programErrorName(Number(code))).toBe(name);
    expect(programErrorName(6999)).toBeUndefined();
  });

  it("explains framework errors, balance, wrong cluster, wallet rejection and network", () => {
    expect(explainError({ error: { errorCode: { number: 3012 } }, message: "" }).name).toBe("AccountNotInitialized");
    expect(explainError({ message: "Transaction simulation failed: Attempt to debit an account but found no record of a prior credit." }).kind).toBe("balance");
    expect(explainError({ message: "x", logs: ["Transfer: insufficient lamports 5, need 10"] }).kind).toBe("balance");
    expect(explainError(new Error("Attempt to load a program that does not exist")).kind).toBe("cluster");
    expect(explainError(Object.assign(new Error("User rejected the request."), { name: "WalletSignTransactionError" })).kind).toBe("wallet");
    expect(explainError(new TypeError("Failed to fetch")).kind).toBe("network");
    expect(explainError(new Error("something odd")).kind).toBe("other");
  });
});
