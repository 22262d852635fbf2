//! Which cluster the app talks to (localnet / devnet / mainnet-beta / custom) and how that choice is made
//! (?rpc= query, saved choice, VITE_RPC_URL, default localnet); the "is Verity really here?" check is the SDK's.
import { PublicKey } from "@solana/web3.js";
import { PROGRAM_ID } from "@verity/sdk";

export interface ClusterConfig {
  name: string;
  rpc: string;
  ws?: string;
  programId: PublicKey;
}

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
