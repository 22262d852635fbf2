//! Test-side access to a running `verity-localnet`: reads its localnet.json, loads keypairs, and builds IDL
//! clients (`Program<Verity>`) signing as the funded wallet, an operator or the config authority.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Program, type Wallet } from "@coral-xyz/anchor";
import { Connection, Keypair, PublicKey, Transaction, VersionedTransaction } from "@solana/web3.js";
import { configPda, registryPda, VerityAnchorProvider, verityProgram, type Verity, eligibleAt } from "@verity/sdk";

export interface LocalnetInfo {
  rpc_url: string;
  ws_url: string;
  faucet: string;
  program_id: string;
  config: string;
  registry: string;
  stake_mint: string;
  stake_vault: string;
  treasury: string;
  treasury_stake: string;
  authority_keypair: string;
  model: { id: number; address: string; index: number; name: string; profile_hash: string };
  operators: { authority: string; keypair: string; operator: string; stake_account: string }[];
  wallet: string;
  wallet_keypair: string;
  commit_window: number;
  reveal_window: number;
  committee_size: number;
}

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** Path of localnet.json: $VERITY_LOCALNET (a file or its directory), else <repo>/.localnet/localnet.json. */
export function localnetPath(): string {
  const p = process.env.VERITY_LOCALNET ?? join(REPO, ".localnet");
  return p.endsWith(".json") ? p : join(p, "localnet.json");
}

export function loadInfo(path = localnetPath()): LocalnetInfo {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`cannot read ${path} (${(e as Error).message}); start verity-localnet first (scripts/ts-test.sh does)`);
  }
}

export function readKeypair(path: string): Keypair {
  return Keypair.fromSecretKey(Uint8Array.from(JSON.parse(readFileSync(path, "utf8"))));
}

/** An Anchor `Wallet` over a local keypair. */
export class KeypairWallet implements Wallet {
  constructor(readonly payer: Keypair) {}
  get publicKey(): PublicKey {
    return this.payer.publicKey;
  }
  async signTransaction<T extends Transaction | VersionedTransaction>(tx: T): Promise<T> {
    if (tx instanceof VersionedTransaction) tx.sign([this.payer]);
    else tx.partialSign(this.payer);
    return tx;
  }
  async signAllTransactions<T extends Transaction | VersionedTransaction>(txs: T[]): Promise<T[]> {
    return Promise.all(txs.map((t) => this.signTransaction(t)));
  }
}

export function connect(info: LocalnetInfo): Connection {
  return new Connection(info.rpc_url, { commitment: "confirmed", wsEndpoint: info.ws_url });
}

export function programFor(connection: Connection, signer: Keypair): Program<Verity> {
  const provider = new VerityAnchorProvider(connection, new KeypairWallet(signer));
  return verityProgram(provider);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the cluster's slot is ≥ `slot`. */
export async function waitForSlot(connection: Connection, slot: number, timeoutMs?: number): Promise<number> {
  // Slots are ~400 ms, but a loaded 2-core machine runs them 3x slower: allow 3 s a slot plus a minute.
  const end = Date.now() + (timeoutMs ?? 60_000 + Math.max(0, slot - (await connection.getSlot("confirmed"))) * 3_000);
  for (;;) {
    const now = await connection.getSlot("confirmed");
    if (now >= slot) return now;
    if (Date.now() > end) throw new Error(`timed out waiting for slot ${slot} (at ${now})`);
    await sleep(Math.min(2000, Math.max(200, (slot - now) * 400)));
  }
}

/**
 * Registry changes take effect `assign_window + 1` slots after they are made, and the draw uses the values in
 * force at the submit slot: on a fresh localnet, requests submitted before the bootstrapped stake is in force
 * can never be assigned. Waits until `count` (default k) operators serving the model are eligible at the current slot.
 */
export async function waitForOperatorsEffective(program: Program<Verity>, modelIndex = 0, count?: number): Promise<void> {
  const conn = program.provider.connection;
  const cfg = await program.account.config.fetch(configPda(program.programId));
  const reg = await program.account.operatorRegistry.fetch(registryPda(program.programId));
  const minStake = BigInt(cfg.params.minStake.toString());
  const k = count ?? cfg.params.committeeSize;
  const effective = reg.entries.map((e) => e.effectiveSlot.toNumber()).sort((a, b) => a - b);
  for (const slot of [await conn.getSlot("confirmed"), ...effective]) {
    if (eligibleAt(reg.entries, slot, modelIndex, minStake).length >= k) {
      await waitForSlot(conn, slot + 1);
      return;
    }
  }
  throw new Error(`fewer than ${k} operators will ever be eligible for model index ${modelIndex}`);
}

/** Polls `probe` until it returns a value other than undefined/false; fails after `timeoutMs` with `what`. */
export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 500): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(everyMs);
  }
}
