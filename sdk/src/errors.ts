//! Turns anything a transaction can throw (Anchor program errors, simulation failures, wallet rejections,
//! RPC/network failures) into one clear sentence, naming the program's error from the committed IDL.
import { IDL_JSON } from "./idl";

export interface ExplainedError {
  /** Short category shown as a heading. */
  kind: "program" | "framework" | "balance" | "wallet" | "cluster" | "network" | "other";
  /** Program error name (`FeeTooLow`) or Anchor framework name, when known. */
  name?: string;
  code?: number;
  message: string;
  logs?: string[];
}

const PROGRAM_ERRORS = new Map<number, { name: string; msg: string }>(
  IDL_JSON.errors.map((e) => [e.code, { name: e.name, msg: e.msg }]),
);
/** The Anchor framework errors users can reach through the app. */
const FRAMEWORK_ERRORS: Record<number, string> = {
  2006: "ConstraintSeeds: an account does not match its expected address",
  3010: "AccountNotSigner: a required signature is missing",
  3012: "AccountNotInitialized: an account does not exist yet (is the protocol initialized on this cluster?)",
};

export function programErrorName(code: number): string | undefined {
  return PROGRAM_ERRORS.get(code)?.name;
}

function collectLogs(err: any): string[] {
  const logs = err?.logs ?? err?.transactionLogs ?? err?.simulationResponse?.logs ?? err?.error?.logs;
  return Array.isArray(logs) ? logs.map(String) : [];
}

function codeFrom(text: string): number | undefined {
  const hex = /custom program error: 0x([0-9a-f]+)/i.exec(text);
  if (hex) return parseInt(hex[1], 16);
  const num = /Error Number: (\d+)/.exec(text);
  if (num) return Number(num[1]);
  const json = /"Custom":\s*(\d+)/.exec(text);
  if (json) return Number(json[1]);
  return undefined;
}

const INSUFFICIENT = [
  /insufficient lamports/i,
  /insufficient funds/i,
  /Attempt to debit an account but found no record of a prior credit/i,
  /AccountNotFound/,
];

/** Explains an error thrown by `program.methods...rpc()`, `sendTransaction` or a wallet adapter. */
export function explainError(err: unknown): ExplainedError {
  const e = err as any;
  const logs = collectLogs(e);
  const text = [e?.message ?? String(err), ...logs].join("\n");

  const anchorCode: number | undefined = e?.error?.errorCode?.number ?? e?.code ?? codeFrom(text);
  if (typeof anchorCode === "number" && PROGRAM_ERRORS.has(anchorCode)) {
    const { name, msg } = PROGRAM_ERRORS.get(anchorCode)!;
    return { kind: "program", name, code: anchorCode, message: `Rejected by the Verity program: ${name} (${anchorCode}) — ${msg}`, logs };
  }
  if (typeof anchorCode === "number" && FRAMEWORK_ERRORS[anchorCode]) {
    const [name] = FRAMEWORK_ERRORS[anchorCode].split(":");
    return { kind: "framework", name, code: anchorCode, message: `Rejected: ${FRAMEWORK_ERRORS[anchorCode]}`, logs };
  }
  if (INSUFFICIENT.some((r) => r.test(text))) {
    return { kind: "balance", message: "Insufficient balance: the wallet cannot pay the fee, the rent of the new accounts and the transaction fee. Fund it (on localnet: the Airdrop button) and retry.", logs };
  }
  if (/Program .* is not deployed|program that does not exist|Unsupported program id|invalid program id/i.test(text)) {
    return { kind: "cluster", message: "Wrong cluster: the Verity program is not deployed on the cluster this app is connected to. Pick the right cluster in the header.", logs };
  }
  if (/User rejected|rejected the request|WalletSignTransactionError|WalletNotConnected/i.test(text) || e?.name?.startsWith?.("Wallet")) {
    return { kind: "wallet", message: `Wallet: ${e?.message || e?.name || "the wallet refused to sign"}`, logs };
  }
  if (/Failed to fetch|NetworkError|ECONNREFUSED|fetch failed|block height exceeded|timed out/i.test(text)) {
    return { kind: "network", message: `Network: ${e?.message ?? text}. Is the RPC endpoint up?`, logs };
  }
  return { kind: "other", message: e?.message ?? String(err), logs };
}
