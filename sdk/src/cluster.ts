//! "Is Verity really here?": names the cluster an RPC endpoint serves (by genesis hash) and checks that the
//! program is deployed there and its Config initialized. Used by the app's banner and the integration tests.
import type { Connection, PublicKey } from "@solana/web3.js";
import { configPda } from "./pda";

/** Genesis hashes of the public clusters. */
export const GENESIS: Record<string, string> = {
  "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d": "mainnet-beta",
  EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG: "devnet",
  "4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY": "testnet",
};

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
