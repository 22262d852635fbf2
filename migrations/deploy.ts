//! Deploy migration (the Anchor convention): on a cluster where the Verity program is deployed, initialize the
//! Config (stake mint, vault, treasury) and register the default model. Idempotent: what exists is reported and
//! left alone. See app/README.md "Deploying to devnet / mainnet".
//!   npx tsx migrations/deploy.ts --url <rpc> --keypair <authority.json> --profile-hash <64 hex> \
//!     [--stake-mint <mint>] [--treasury <pubkey>] [--model-id 1] [--model-name SmolLM2-135M-Instruct] \
//!     [--price 1000] [--param-count <n>] [--params <ConfigParams JSON file>] [--program <id>]
//! Without --stake-mint a new 6-decimal mint is created with the authority as mint authority (devnet/localnet).
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { AnchorProvider, type Wallet } from "@coral-xyz/anchor";
import BN from "bn.js";
import { Connection, Keypair, PublicKey, Transaction, VersionedTransaction } from "@solana/web3.js";
import { createMint, getOrCreateAssociatedTokenAccount } from "@solana/spl-token";
import { configPda, modelPda, PROGRAM_ID, registryPda, stakeVaultPda, toHex, VerityAnchorProvider, verityProgram } from "@verity/sdk";

export interface DeployOptions {
  profileHash: string;
  stakeMint?: string;
  treasury?: string;
  modelId?: number;
  modelName?: string;
  pricePerToken?: number;
  /** The model's parameter count (receipts' ≈FLOPs); default: SmolLM2-135M's for the default model, else 0 (unknown). */
  paramCount?: number;
  params?: Record<string, number>;
  programId?: string;
  log?: (s: string) => void;
}

/** Parameter count of SmolLM2-135M-Instruct, the default model (as `verity localnet` registers it). */
export const SMOLLM2_135M_PARAMS = 134_515_008;

/** Protocol parameters for a fresh deployment (override with --params). Slots are ~400 ms. */
export const DEFAULT_PARAMS = {
  protocolFeeBps: 500, slashBps: 1000, slashTreasuryBps: 5000, committeeSize: 3,
  assignWindow: 150, commitWindow: 150, revealWindow: 150, disputeWindow: 150,
  unbondingSlots: 216_000, minStake: 1_000_000, disputeBond: 100_000_000,
};

export default async function deploy(provider: AnchorProvider, o: DeployOptions) {
  const log = o.log ?? console.log;
  const programId = new PublicKey(o.programId ?? PROGRAM_ID);
  const program = verityProgram(provider, programId);
  const conn = provider.connection;
  const me = provider.wallet.publicKey;
  if (!/^[0-9a-f]{64}$/.test(o.profileHash)) throw new Error("--profile-hash must be 64 lower-case hex characters");
  const prog = await conn.getAccountInfo(programId);
  if (!prog) throw new Error(`program ${programId.toBase58()} is not deployed on ${conn.rpcEndpoint} (anchor build && anchor deploy first)`);

  const config = configPda(programId);
  let cfg = await program.account.config.fetchNullable(config);
  if (cfg) {
    log(`config ${config.toBase58()} exists (authority ${cfg.authority.toBase58()}, k=${cfg.params.committeeSize}): left as is`);
  } else {
    const payer = (provider.wallet as Wallet & { payer?: Keypair }).payer;
    if (!payer) throw new Error("initializing needs a keypair wallet");
    const mint = o.stakeMint ? new PublicKey(o.stakeMint) : await createMint(conn, payer, me, null, 6);
    if (!o.stakeMint) log(`created stake mint ${mint.toBase58()} (6 decimals, mint authority ${me.toBase58()})`);
    const treasury = new PublicKey(o.treasury ?? me);
    const treasuryStake = (await getOrCreateAssociatedTokenAccount(conn, payer, mint, treasury, true)).address;
    const p = { ...DEFAULT_PARAMS, ...(o.params ?? {}) };
    const params = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, ["protocolFeeBps", "slashBps", "slashTreasuryBps", "committeeSize"].includes(k) ? v : new BN(v)]));
    const sig = await program.methods
      .initializeConfig(params as any)
      .accountsPartial({ authority: me, config, registry: registryPda(programId), stakeMint: mint, stakeVault: stakeVaultPda(programId), treasury, treasuryStake })
      .rpc();
    cfg = await program.account.config.fetch(config);
    log(`initialized config ${config.toBase58()} (stake mint ${mint.toBase58()}, vault ${cfg.stakeVault.toBase58()}): ${sig}`);
  }

  const modelId = o.modelId ?? 1;
  const model = modelPda(modelId, programId);
  const existing = await program.account.model.fetchNullable(model);
  if (existing) {
    log(`model ${modelId} (${existing.name}) exists at ${model.toBase58()}, profile ${toHex(existing.profileHash)}: left as is`);
    if (toHex(existing.profileHash) !== o.profileHash) log("warning: its profile hash differs from --profile-hash (update_model to change it)");
  } else {
    const sig = await program.methods
      .registerModel(new BN(modelId), {
        name: o.modelName ?? "SmolLM2-135M-Instruct",
        profileHash: Array.from(Buffer.from(o.profileHash, "hex")),
        pricePerToken: new BN(o.pricePerToken ?? 1000),
        maxInputBytes: 512,
        maxOutputTokens: 128,
        royaltyBps: 1000,
        paramCount: new BN(o.paramCount ?? (o.modelName ? 0 : SMOLLM2_135M_PARAMS)),
      })
      .accountsPartial({ owner: me, authority: me, config, model })
      .rpc();
    log(`registered model ${modelId} at ${model.toBase58()}: ${sig}`);
  }
  return { config, model, stakeMint: cfg.stakeMint };
}

class KeypairWallet implements Wallet {
  constructor(readonly payer: Keypair) {}
  get publicKey() { return this.payer.publicKey; }
  async signTransaction<T extends Transaction | VersionedTransaction>(tx: T): Promise<T> {
    if (tx instanceof VersionedTransaction) tx.sign([this.payer]);
    else tx.partialSign(this.payer);
    return tx;
  }
  async signAllTransactions<T extends Transaction | VersionedTransaction>(txs: T[]): Promise<T[]> {
    return Promise.all(txs.map((t) => this.signTransaction(t)));
  }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function main() {
  const url = arg("url") ?? process.env.ANCHOR_PROVIDER_URL ?? "http://127.0.0.1:8899";
  const keypath = (arg("keypair") ?? process.env.ANCHOR_WALLET ?? "~/.config/solana/id.json").replace(/^~/, homedir());
  const kp = Keypair.fromSecretKey(Uint8Array.from(JSON.parse(readFileSync(keypath, "utf8"))));
  const provider = new VerityAnchorProvider(new Connection(url, "confirmed"), new KeypairWallet(kp));
  const profileHash = arg("profile-hash");
  if (!profileHash) throw new Error("--profile-hash is required (the oracle prints it: `verity infer --json ...` → profile_hash)");
  await deploy(provider, {
    profileHash,
    stakeMint: arg("stake-mint"),
    treasury: arg("treasury"),
    modelId: arg("model-id") ? Number(arg("model-id")) : undefined,
    modelName: arg("model-name"),
    pricePerToken: arg("price") ? Number(arg("price")) : undefined,
    paramCount: arg("param-count") ? Number(arg("param-count")) : undefined,
    params: arg("params") ? JSON.parse(readFileSync(arg("params")!, "utf8")) : undefined,
    programId: arg("program"),
  });
}

if (process.argv[1]?.endsWith("deploy.ts")) main().catch((e) => { console.error(`deploy failed: ${e.message ?? e}`); process.exit(1); });
