//! Which cluster the app talks to (localnet / devnet / mainnet-beta / custom), how that choice is made
//! (?rpc= query, saved choice, VITE_RPC_URL, default localnet) and the "is Verity really here?" check.
import { Connection, PublicKey } from "@solana/web3.js";
import { configPda, PROGRAM_ID } from "./protocol";

export interface ClusterConfig {
  name: string;
  rpc: string;
  ws?: string;
  programId: PublicKey;
}

export const GENESIS: Record<string, string> = {
  "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d": "mainnet-beta",
  EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG: "devnet",
  "4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY": "testnet",
};

export const PRESETS: Record<string, string> = {
  localnet: "http://127.0.0.1:8899",
  devnet: "https://api.devnet.solana.com",
  "mainnet-beta": "https://api.mainnet-beta.solana.com",
};

const STORAGE_KEY = "verity.cluster";
const env = (import.meta as any).env ?? {};

/** Resolves the cluster: `?rpc=&ws=&program=` in the URL, then the saved choice, then VITE_* env, then localnet. */
export function resolveCluster(search = typeof location !== "undefined" ? location.search : ""): ClusterConfig {
  const q = new URLSearchParams(search);
  let saved: Partial<Record<"rpc" | "ws" | "program", string>> = {};
  try {
    saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "{}");
  } catch {}
  const rpc = q.get("rpc") ?? saved.rpc ?? env.VITE_RPC_URL ?? PRESETS.localnet;
  const ws = q.get("ws") ?? (q.get("rpc") ? undefined : saved.ws) ?? env.VITE_WS_URL ?? undefined;
  const program = q.get("program") ?? saved.program ?? env.VITE_PROGRAM_ID ?? PROGRAM_ID.toBase58();
  const name = Object.entries(PRESETS).find(([, u]) => u === rpc)?.[0] ?? "custom";
  return { name, rpc, ws: ws || undefined, programId: new PublicKey(program) };
}

export function saveCluster(rpc: string, ws?: string, program?: string) {
  localStorage.setItem(STORAGE_KEY, JSON.stringify({ rpc, ws, program }));
}

export function isLocal(rpc: string): boolean {
  return /^https?:\/\/(127\.0\.0\.1|localhost|0\.0\.0\.0)(:|\/|$)/.test(rpc);
}

export type ClusterHealth =
  | { ok: true; cluster: string; slot: number }
  | { ok: false; cluster?: string; problem: string };

/** Checks the endpoint answers, names the cluster by genesis hash, and checks the program and its Config exist. */
export async function checkCluster(connection: Connection, programId: PublicKey): Promise<ClusterHealth> {
  let genesis: string;
  try {
    genesis = await connection.getGenesisHash();
  } catch (e) {
    return { ok: false, problem: `RPC endpoint ${connection.rpcEndpoint} does not answer (${(e as Error).message}).` };
  }
  const cluster = GENESIS[genesis] ?? (isLocal(connection.rpcEndpoint) ? "localnet" : `custom (${genesis.slice(0, 8)}…)`);
  const [prog, config] = await connection.getMultipleAccountsInfo([programId, configPda(programId)]);
  if (!prog) {
    return { ok: false, cluster, problem: `Wrong cluster: program ${programId.toBase58()} is not deployed on ${cluster}.` };
  }
  if (!config || !config.owner.equals(programId)) {
    return { ok: false, cluster, problem: `Verity is deployed on ${cluster} but not initialized (run migrations/deploy.ts).` };
  }
  return { ok: true, cluster, slot: await connection.getSlot() };
}
