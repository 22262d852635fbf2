//! Decoding Verity events from transaction logs with the IDL's event coder, robust to the extra lines the
//! native localnet adds: its builtin wrapper repeats `Program X invoke [n]` / `Program X success`, and each CPI
//! shows a spurious `invoke [1]` before the real `invoke [2]`. Real clusters never produce such lines, so the
//! normalization is a no-op there (it only drops exact consecutive repeats and that CPI echo).
import { EventParser, type Program } from "@coral-xyz/anchor";
import type { Verity } from "./idl";

const INVOKE = /^Program (\S+) invoke \[(\d+)\]$/;
const END = /^Program (\S+) (success|failed.*)$/;

export function normalizeLogs(logs: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < logs.length; i++) {
    const line = logs[i];
    const inv = INVOKE.exec(line);
    if (inv && inv[2] === "1" && out.length > 0) {
      const next = INVOKE.exec(logs[i + 1] ?? "");
      if (next && next[1] === inv[1] && next[2] !== "1") continue; // CPI echo
    }
    if ((inv || END.test(line)) && out[out.length - 1] === line) continue; // exact repeat
    out.push(line);
  }
  return out;
}

export interface DecodedEvent {
  name: string;
  data: Record<string, any>;
}

/** Every Verity event in one transaction's logs (never throws: undecodable logs yield nothing). */
export function parseEvents(program: Program<Verity>, logs: readonly string[]): DecodedEvent[] {
  const parser = new EventParser(program.programId, program.coder);
  const out: DecodedEvent[] = [];
  try {
    for (const e of parser.parseLogs(normalizeLogs(logs))) out.push({ name: e.name, data: e.data as Record<string, any> });
  } catch {
    /* a log shape the parser does not know: keep what was decoded */
  }
  return out;
}
