//! SCRIPTED OPERATORS — test-owned operators on a test-owned model, for the few tests that need a committee to
//! misbehave or act out of turn (a liar in the minority, commits/reveals in the wrong phase, a request nobody
//! assigns). The real oracle nodes of `verity localnet` never touch these requests: they assign and answer only
//! requests of models their operators serve (and whose profile hash is their engine's), and the scripted
//! operators serve only the scripted model, so every committee drawn for it is scripted and no key is shared.
//! The scripted "answer" is a labelled placeholder: the scripted model's profile hash is not a real engine's.
//! Set up once per localnet (state in `scripted.json` next to localnet.json), then reused by every test file:
//! 3k+1 operators, so that a dispute round can draw its 2k+1 fresh members after a first committee of k.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import BN from "bn.js";
import type { Program } from "@coral-xyz/anchor";
import { Connection, Keypair, LAMPORTS_PER_SOL, PublicKey, SystemProgram, Transaction, sendAndConfirmTransaction } from "@solana/web3.js";
import { createAssociatedTokenAccount, mintTo } from "@solana/spl-token";
import { commitmentHash, configPda, modelPda, operatorPda, outputHash, outputPda, randomSalt, registryPda, variant, type Verity, assignCommittee, finalizeRequest, explainError } from "@verity/sdk";
import { localnetPath, programFor, readKeypair, sleep, waitForOperatorsEffective, waitForSlot, type LocalnetInfo } from "./localnet";

/** Not a real engine's profile hash: no oracle node ever serves the scripted model. */
export const SCRIPTED_PROFILE = Array(32).fill(0x5c) as number[];

export interface Answer {
  text: string;
  tokensIn: number;
  tokensOut: number;
}

/** Operators whose keys the test holds, and the one model they answer. */
export interface Committee {
  model: PublicKey;
  byAuthority: Map<string, Keypair>;
  /** Signs as the first operator (cranks). */
  cranker: Program<Verity>;
}

export interface Scripted extends Committee {
  modelId: BN;
  modelIndex: number;
}

interface State {
  model_id: string;
  operators: number[][];
}

const stateFile = () => join(dirname(localnetPath()), "scripted.json");

async function create(connection: Connection, info: LocalnetInfo): Promise<State> {
  const wallet = readKeypair(info.wallet_keypair);
  const authority = readKeypair(info.authority_keypair); // approves the model's registration
  const program = programFor(connection, wallet);
  const cfg = await program.account.config.fetch(configPda());
  const modelId = new BN(7_000_000 + Math.floor(Math.random() * 1_000_000));
  await program.methods
    .registerModel(modelId, { name: "ts-scripted", profileHash: SCRIPTED_PROFILE, pricePerToken: new BN(100), maxInputBytes: 512, maxOutputTokens: 64, royaltyBps: 100, paramCount: new BN(0) })
    .accountsPartial({ owner: wallet.publicKey, authority: authority.publicKey, config: configPda(), model: modelPda(modelId) })
    .signers([authority])
    .rpc();
  const index = (await program.account.model.fetch(modelPda(modelId))).index;
  // k for the first round plus 2k+1 fresh ones for a dispute round (drawn excluding the first committee).
  const ops = Array.from({ length: 3 * cfg.params.committeeSize + 1 }, () => Keypair.generate());
  const fund = new Transaction();
  for (const op of ops) fund.add(SystemProgram.transfer({ fromPubkey: wallet.publicKey, toPubkey: op.publicKey, lamports: 5 * LAMPORTS_PER_SOL }));
  await sendAndConfirmTransaction(connection, fund, [wallet], { commitment: "confirmed" });
  const mint = new PublicKey(info.stake_mint);
  const mintAuthority = readKeypair(join(dirname(info.wallet_keypair), "mint-authority.json"));
  const amount = cfg.params.minStake.muln(10);
  await Promise.all(
    ops.map(async (op) => {
      const source = await createAssociatedTokenAccount(connection, op, mint, op.publicKey, { commitment: "confirmed" });
      await mintTo(connection, op, mint, source, mintAuthority, BigInt(amount.toString()), [], { commitment: "confirmed" });
      const p = programFor(connection, op);
      const base = { authority: op.publicKey, config: configPda(), registry: registryPda(), operator: operatorPda(op.publicKey) };
      await p.methods.registerOperator(new BN(1).shln(index)).accountsPartial(base).rpc();
      await p.methods.stake(amount).accountsPartial({ ...base, stakeMint: mint, source, stakeVault: cfg.stakeVault }).rpc();
    }),
  );
  const state: State = { model_id: modelId.toString(), operators: ops.map((o) => Array.from(o.secretKey)) };
  writeFileSync(stateFile(), JSON.stringify(state));
  return state;
}

/**
 * The scripted model and its operators: created on first use (a model only they serve, k operators staked), then
 * waited for until the registry's activation delay (assign_window + 1 slots, ~60 s) lets them be drawn.
 */
export async function scriptedOperators(connection: Connection, info: LocalnetInfo): Promise<Scripted> {
  const state: State = existsSync(stateFile()) ? JSON.parse(readFileSync(stateFile(), "utf8")) : await create(connection, info);
  const keys = state.operators.map((s) => Keypair.fromSecretKey(Uint8Array.from(s)));
  const cranker = programFor(connection, keys[0]);
  const modelId = new BN(state.model_id);
  const model = await cranker.account.model.fetch(modelPda(modelId));
  await waitForOperatorsEffective(cranker, model.index, keys.length);
  return { modelId, model: modelPda(modelId), modelIndex: model.index, byAuthority: new Map(keys.map((k) => [k.publicKey.toBase58(), k] as const)), cranker };
}

/** The scripted committee's (placeholder) answer. */
export function scriptedAnswer(prompt: string, maxTokens: number): Answer {
  const words = `[scripted operators, not a model] You asked: ${prompt}`.split(/\s+/).slice(0, maxTokens);
  return { text: words.join(" "), tokensIn: new TextEncoder().encode(prompt).length, tokensOut: words.length };
}

export interface DriveOptions {
  /** Committee positions (index in `request.committee.members`) that reveal a different output (minority slashing). */
  liars?: number[];
  /** Committee positions that commit but never reveal. */
  silent?: number[];
  /** Skip write_output. */
  noWrite?: boolean;
  answer?: Answer;
}

/** Cranks assign_committee, retrying while SlotHashes has no slot after the submit slot yet. */
export async function assignWithRetry(program: Program<Verity>, request: PublicKey): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      return await assignCommittee(program, request).rpc();
    } catch (e) {
      if (explainError(e).name !== "SlotHashNotYetAvailable" || i >= 40) throw e;
      await sleep(400);
    }
  }
}

/** Runs `p`; an error with one of the `ok` program error names (someone else did it first) counts as success. */
async function tolerate(p: Promise<unknown>, ...ok: string[]): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!ok.includes(explainError(e).name ?? "")) throw e;
  }
}

/** Drives one request of the committee's model from Pending to Finalized (or NoConsensus) and writes its output. */
export async function driveRound(s: Committee, request: PublicKey, opts: DriveOptions = {}): Promise<Answer> {
  const { cranker } = s;
  const connection = cranker.provider.connection;
  let req = await cranker.account.request.fetch(request);
  if (!req.model.equals(s.model)) throw new Error(`request ${request.toBase58()} is not for model ${s.model.toBase58()}`);
  if (variant(req.status) === "pending") await assignWithRetry(cranker, request);
  req = await cranker.account.request.fetch(request);
  const prompt = new TextDecoder().decode(Uint8Array.from(req.prompt));
  const answer = opts.answer ?? scriptedAnswer(prompt, req.maxTokens);
  const plan = req.committee.members.map((m, i) => {
    const kp = s.byAuthority.get(m.operator.toBase58());
    if (!kp) throw new Error(`committee member ${m.operator.toBase58()} is not one of the test's operators`);
    const text = opts.liars?.includes(i) ? `${answer.text} (a lie)` : answer.text;
    const oh = outputHash(req.profileHash, text);
    const salt = randomSalt();
    return { i, kp, program: programFor(connection, kp), oh, salt, commitment: commitmentHash(request, kp.publicKey, oh, salt) };
  });
  for (const p of plan) {
    await p.program.methods.commitResult(Array.from(p.commitment)).accountsPartial({ operator: p.kp.publicKey, request }).rpc();
  }
  for (const p of plan) {
    if (opts.silent?.includes(p.i)) continue;
    await p.program.methods
      .revealResult({ outputHash: Array.from(p.oh), salt: Array.from(p.salt), tokensIn: answer.tokensIn, tokensOut: answer.tokensOut })
      .accountsPartial({ operator: p.kp.publicKey, request })
      .rpc();
  }
  if (opts.silent?.length) {
    req = await cranker.account.request.fetch(request);
    await waitForSlot(connection, Number(req.committee.revealDeadline) + 1);
  }
  // Past the reveal deadline (+ a grace) the real nodes crank finalize for any request too.
  await tolerate(finalizeRequest(cranker, request).then((b) => b.rpc()), "AlreadyFinalized");
  req = await cranker.account.request.fetch(request);
  const bytes = new TextEncoder().encode(answer.text);
  if (!opts.noWrite && variant(req.status) === "finalized" && bytes.length <= req.outputCapacity) {
    const writer = plan.find((p) => req.committee.members.some((m) => m.operator.equals(p.kp.publicKey) && variant(m.outcome) === "agreed"))!;
    for (let off = 0; off < bytes.length; off += 700) {
      await writer.program.methods
        .writeOutput({ offset: off, totalLen: bytes.length, data: Buffer.from(bytes.subarray(off, off + 700)) })
        .accountsPartial({ writer: writer.kp.publicKey, request, output: outputPda(request, cranker.programId) })
        .rpc();
    }
  }
  return answer;
}
