//! TEST DRIVER — NOT an oracle node. Until the Rust oracle nodes answer requests, this stands in for the
//! committee: with the operator keypairs from localnet.json it cranks assign_committee, commits, reveals,
//! finalizes and writes the output of one request, all through the IDL client. The "answer" is a labelled
//! placeholder, or the real model's output when $VERITY_INFER_BIN points at the oracle's `verity` binary.
//! CLI: `tsx tests/ts/lib/operator-driver.ts [--once]` answers every Pending request of the localnet.
import { spawnSync } from "node:child_process";
import type { Program } from "@coral-xyz/anchor";
import { Connection, Keypair, PublicKey } from "@solana/web3.js";
import { commitmentHash, configPda, outputHash, outputPda, randomSalt, variant, type Verity } from "../../../app/src/lib/protocol";
import { assignCommittee, finalizeRequest } from "../../../app/src/lib/cranks";
import { explainError } from "../../../app/src/lib/errors";
import { connect, loadInfo, programFor, readKeypair, sleep, waitForSlot, type LocalnetInfo } from "./localnet";

export interface Answer {
  text: string;
  tokensIn: number;
  tokensOut: number;
}

/** The answer the driver reveals: real inference via $VERITY_INFER_BIN, else a clearly labelled placeholder. */
export function answerFor(prompt: string, maxTokens: number): Answer {
  const bin = process.env.VERITY_INFER_BIN;
  if (bin) {
    const r = spawnSync(bin, ["infer", "--json", "--max-tokens", String(maxTokens), prompt], { encoding: "utf8", timeout: 300_000 });
    const line = r.stdout?.split("\n").find((l) => l.startsWith("{"));
    if (r.status !== 0 || !line) throw new Error(`${bin} infer failed: ${r.stderr}`);
    const o = JSON.parse(line);
    return { text: o.text, tokensIn: o.tokens_in, tokensOut: o.tokens_out };
  }
  const words = `[test driver answer, not a model] You asked: ${prompt}`.split(/\s+/).slice(0, maxTokens);
  return { text: words.join(" "), tokensIn: new TextEncoder().encode(prompt).length, tokensOut: words.length };
}

export interface DriveOptions {
  /** Committee positions (index in `request.members`) that reveal a different output (minority slashing). */
  liars?: number[];
  /** Committee positions that commit but never reveal. */
  silent?: number[];
  /** Skip write_output. */
  noWrite?: boolean;
  answer?: Answer;
}

export interface Operators {
  byAuthority: Map<string, Keypair>;
  cranker: Program<Verity>;
}

export function loadOperators(connection: Connection, info: LocalnetInfo): Operators {
  const byAuthority = new Map(info.operators.map((o) => [o.authority, readKeypair(o.keypair)] as const));
  return { byAuthority, cranker: programFor(connection, readKeypair(info.operators[0].keypair)) };
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

/** Drives one request from Pending to Finalized (or NoConsensus) and writes its output. Returns the answer. */
export async function driveRound(connection: Connection, ops: Operators, request: PublicKey, opts: DriveOptions = {}): Promise<Answer> {
  const { cranker } = ops;
  let req = await cranker.account.request.fetch(request);
  if (variant(req.status) === "pending") await assignWithRetry(cranker, request);
  req = await cranker.account.request.fetch(request);
  const prompt = new TextDecoder().decode(Uint8Array.from(req.prompt));
  const answer = opts.answer ?? answerFor(prompt, req.maxTokens);
  const config = configPda(cranker.programId);
  const plan = req.members.map((m, i) => {
    const kp = ops.byAuthority.get(m.operator.toBase58());
    if (!kp) throw new Error(`committee member ${m.operator.toBase58()} is not one of localnet.json's operators`);
    const text = opts.liars?.includes(i) ? `${answer.text} (a lie)` : answer.text;
    const oh = outputHash(req.profileHash, text);
    const salt = randomSalt();
    return { i, kp, program: programFor(connection, kp), oh, salt, commitment: commitmentHash(request, kp.publicKey, oh, salt) };
  });
  for (const p of plan) {
    await p.program.methods.commitResult(Array.from(p.commitment)).accountsPartial({ operator: p.kp.publicKey, config, request }).rpc();
  }
  for (const p of plan) {
    if (opts.silent?.includes(p.i)) continue;
    await p.program.methods
      .revealResult({ outputHash: Array.from(p.oh), salt: Array.from(p.salt), tokensIn: answer.tokensIn, tokensOut: answer.tokensOut })
      .accountsPartial({ operator: p.kp.publicKey, config, request })
      .rpc();
  }
  if (opts.silent?.length) {
    req = await cranker.account.request.fetch(request);
    await waitForSlot(connection, Number(req.revealDeadline) + 1);
  }
  await (await finalizeRequest(cranker, request)).rpc();
  req = await cranker.account.request.fetch(request);
  const bytes = new TextEncoder().encode(answer.text);
  if (!opts.noWrite && variant(req.status) === "finalized" && bytes.length <= req.outputCapacity) {
    const writer = plan.find((p) => req.members.some((m) => m.operator.equals(p.kp.publicKey) && variant(m.outcome) === "agreed"))!;
    for (let off = 0; off < bytes.length; off += 700) {
      await writer.program.methods
        .writeOutput({ offset: off, totalLen: bytes.length, data: Buffer.from(bytes.subarray(off, off + 700)) })
        .accountsPartial({ writer: writer.kp.publicKey, request, output: outputPda(request, cranker.programId) })
        .rpc();
    }
  }
  return answer;
}

/** Watches for Pending requests and answers each once (`--once`: stop after the first). */
async function main() {
  const info = loadInfo();
  const connection = connect(info);
  const ops = loadOperators(connection, info);
  const done = new Set<string>();
  console.log(`TEST DRIVER acting as ${ops.byAuthority.size} operators on ${info.rpc_url}; waiting for requests…`);
  for (;;) {
    const pending = (await ops.cranker.account.request.all()).filter((r) => variant(r.account.status) === "pending" && !done.has(r.publicKey.toBase58()));
    for (const r of pending) {
      done.add(r.publicKey.toBase58());
      try {
        const a = await driveRound(connection, ops, r.publicKey);
        console.log(`answered ${r.publicKey.toBase58()}: ${JSON.stringify(a.text)}`);
      } catch (e) {
        console.error(`request ${r.publicKey.toBase58()}: ${explainError(e).message}`);
      }
      if (process.argv.includes("--once")) return;
    }
    await sleep(1000);
  }
}

if (process.argv[1]?.endsWith("operator-driver.ts")) main().then(() => process.exit(0), (e) => (console.error(e), process.exit(1)));
