//! Rejections, each with the program's own error name as the app explains it: bad submissions (sampling out of
//! range too), wrong PDA, an unfunded payer, commit/reveal/finalize out of turn, a forged reveal, a wrong output,
//! pause and authority.
//! Out-of-turn actions are played by the scripted operators on their own model (lib/scripted.ts), which the real
//! oracle nodes never touch.
import { test } from "node:test";
import assert from "node:assert/strict";
import BN from "bn.js";
import { Keypair } from "@solana/web3.js";
import { GREEDY, MAX_INLINE_PROMPT_BYTES, type Sampling, samplingFromUser, commitmentHash, configPda, freshNonce, modelPda, outputHash, outputPda, randomSalt, requestPda, variant, assignCommittee, expireRequest, finalizeRequest, explainError } from "@verity/sdk";
import { connect, loadInfo, programFor, readKeypair } from "../lib/localnet";
import { assignWithRetry, scriptedOperators } from "../lib/scripted";
import { rejectsWith } from "../lib/expect";
import { subscribeEvents } from "../lib/events";
import { after } from "node:test";

const info = loadInfo();
const connection = connect(info);
const wallet = readKeypair(info.wallet_keypair);
const program = programFor(connection, wallet);
const model = await program.account.model.fetch(modelPda(info.model.id));
const config = configPda();
const ops = await scriptedOperators(connection, info);
const feed = subscribeEvents(program);
after(() => feed.stop());

type Args = { prompt: Buffer; promptHash: number[] | null; promptUri: string; maxTokens: number; fee: BN; outputCapacity: number; sampling: Sampling };
function submit(over: Partial<Args> = {}, p = program, nonce = freshNonce(), requestNonce = nonce, modelAddr = modelPda(info.model.id)) {
  const a: Args = { prompt: Buffer.from("hello"), promptHash: null, promptUri: "", maxTokens: 4, fee: model.pricePerToken.muln(4), outputCapacity: 64, sampling: GREEDY, ...over };
  const requester = p.provider.publicKey!;
  return p.methods
    .submitRequest({ nonce, ...a, callbackProgram: null })
    .accountsPartial({ requester, model: modelAddr, request: requestPda(requester, requestNonce), prompt: null })
    .rpc();
}

test("submit_request rejects bad arguments with the program's error names", async () => {
  await rejectsWith(submit({ fee: model.pricePerToken.muln(4).subn(1) }), "FeeTooLow");
  await rejectsWith(submit({ maxTokens: 0, fee: new BN(0) }), "MaxTokensZero");
  await rejectsWith(submit({ maxTokens: model.maxOutputTokens + 1, fee: model.pricePerToken.muln(model.maxOutputTokens + 1) }), "MaxTokensAboveModelLimit");
  // Inline prompts are capped at min(model.max_input_bytes, 640) bytes (longer ones go in a Prompt account).
  await rejectsWith(submit({ prompt: Buffer.alloc(Math.min(model.maxInputBytes, MAX_INLINE_PROMPT_BYTES) + 1, 97) }), "PromptTooLarge");
  await rejectsWith(submit({ prompt: Buffer.alloc(0) }), "PromptMissing");
  await rejectsWith(submit({ promptHash: Array(32).fill(1) }), "PromptAmbiguous");
  await rejectsWith(submit({ outputCapacity: 0 }), "InvalidOutputCapacity");
  await rejectsWith(submit({ outputCapacity: 4097 }), "InvalidOutputCapacity");
});

test("submit_request refuses sampling out of the program's ranges with InvalidSampling; the bounds themselves pass", async () => {
  const seed = new BN(42);
  for (const [temperatureMilli, topPMilli] of [[2001, 0], [2001, 1000], [700, 0], [700, 1001], [0, 0], [65535, 500]]) {
    const nonce = freshNonce();
    await rejectsWith(submit({ sampling: { temperatureMilli, topPMilli, seed } }, program, nonce), "InvalidSampling");
    assert.equal(await program.account.request.fetchNullable(requestPda(wallet.publicKey, nonce)), null, "nothing created");
  }
  // What the SDK's explainError tells the user, with the program's own message.
  const err = await submit({ sampling: { temperatureMilli: 2001, topPMilli: 0, seed } }).then(() => undefined, (e: unknown) => e);
  const x = explainError(err);
  assert.equal(x.kind, "program");
  assert.match(x.message, /InvalidSampling \(\d+\) — Sampling out of range: temperature_milli ≤ 2000, top_p_milli 1\.\.=1000/);
  assert.throws(() => samplingFromUser({ temperature: 2.001, topP: 0 }), /temperature must be 0\.\.2/, "the SDK refuses it before sending");
  // The inclusive bounds are accepted and stored as sent (on the scripted model, which no oracle node serves).
  const sm = await program.account.model.fetch(ops.model);
  for (const sampling of [{ temperatureMilli: 2000, topPMilli: 1, seed: new BN("18446744073709551615") }, { temperatureMilli: 1, topPMilli: 1000, seed: new BN(0) }]) {
    const nonce = freshNonce();
    await submit({ fee: sm.pricePerToken.muln(4), sampling }, program, nonce, nonce, ops.model);
    const r = await program.account.request.fetch(requestPda(wallet.publicKey, nonce));
    assert.deepEqual([r.sampling.temperatureMilli, r.sampling.topPMilli, r.sampling.seed.toString()], [sampling.temperatureMilli, sampling.topPMilli, sampling.seed.toString()]);
  }
});

test("a transaction that fails on chain (preflight skipped) still names the program's error and keeps its logs", async () => {
  const nonce = freshNonce();
  const requester = wallet.publicKey;
  const err = await program.methods
    .submitRequest({ nonce, prompt: Buffer.from("hello"), promptHash: null, promptUri: "", maxTokens: 4, fee: model.pricePerToken.muln(4).subn(1), outputCapacity: 64, callbackProgram: null, sampling: GREEDY })
    .accountsPartial({ requester, model: modelPda(info.model.id), request: requestPda(requester, nonce), prompt: null })
    .rpc({ skipPreflight: true, commitment: "confirmed" })
    .then(() => undefined, (e: unknown) => e);
  assert.ok(err, "an underpaid request was accepted");
  const x = explainError(err);
  assert.equal(x.name, "FeeTooLow", x.message);
  const failed = `custom program error: 0x${(x.code ?? 0).toString(16)}`;
  assert.ok(x.logs?.some((l) => l.endsWith(failed)), `the on-chain logs end in "${failed}": ${(x.logs ?? []).join("\n")}`);
  assert.equal(await program.account.request.fetchNullable(requestPda(requester, nonce)), null);
});

test("framework and balance failures are explained too", async () => {
  const n = freshNonce();
  await rejectsWith(submit({}, program, n, n.addn(1)), "ConstraintSeeds");
  const pauper = programFor(connection, Keypair.generate());
  let err: unknown;
  await submit({}, pauper).catch((e) => (err = e));
  assert.equal(explainError(err).kind, "balance", explainError(err).message);
  assert.match(explainError(err).message, /Insufficient balance/);
});

test("commit / reveal / finalize out of turn, forged reveal and wrong output are rejected", async () => {
  const nonce = freshNonce();
  const request = requestPda(wallet.publicKey, nonce);
  const sm = await program.account.model.fetch(ops.model);
  await submit({ fee: sm.pricePerToken.muln(4) }, program, nonce, nonce, ops.model);
  await rejectsWith(finalizeRequest(program, request).then((b) => b.rpc()), "RequestNotAssigned");
  await rejectsWith(expireRequest(program, request).then((b) => b.rpc()), "ExpireTooEarly");
  await assignWithRetry(ops.cranker, request);
  await rejectsWith(assignCommittee(ops.cranker, request).rpc(), "RequestNotPending");
  const req = await program.account.request.fetch(request);
  const members = req.committee.members.map((m) => {
    const kp = ops.byAuthority.get(m.operator.toBase58())!;
    const oh = outputHash(req.profileHash, "four");
    const salt = randomSalt();
    return { kp, p: programFor(connection, kp), oh, salt, c: commitmentHash(request, kp.publicKey, oh, salt) };
  });
  const commit = (m: (typeof members)[0]) => m.p.methods.commitResult(Array.from(m.c)).accountsPartial({ operator: m.kp.publicKey, request }).rpc();
  const reveal = (m: (typeof members)[0], salt = m.salt) =>
    m.p.methods.revealResult({ outputHash: Array.from(m.oh), salt: Array.from(salt), tokensIn: 1, tokensOut: 1 }).accountsPartial({ operator: m.kp.publicKey, request }).rpc();

  await rejectsWith(program.methods.commitResult(Array(32).fill(0)).accountsPartial({ operator: wallet.publicKey, request }).rpc(), "NotCommitteeMember");
  await commit(members[0]);
  await rejectsWith(commit(members[0]), "AlreadyCommitted");
  await rejectsWith(reveal(members[0]), "RevealWindowNotOpen");
  await rejectsWith(finalizeRequest(program, request).then((b) => b.rpc()), "FinalizeTooEarly");
  for (const m of members.slice(1)) await commit(m);
  await rejectsWith(reveal(members[0], randomSalt()), "CommitmentMismatch");
  await rejectsWith(
    members[0].p.methods.revealResult({ outputHash: Array.from(members[0].oh), salt: Array.from(members[0].salt), tokensIn: 1, tokensOut: req.maxTokens + 1 }).accountsPartial({ operator: members[0].kp.publicKey, request }).rpc(),
    "InvalidTokenCount",
  );
  for (const m of members) await reveal(m);
  await rejectsWith(reveal(members[0]), "AlreadyRevealed");
  await (await finalizeRequest(program, request)).rpc();
  assert.equal(variant((await program.account.request.fetch(request)).status), "finalized");
  await rejectsWith(finalizeRequest(program, request).then((b) => b.rpc()), "AlreadyFinalized");
  const write = (who: Keypair, data: string) =>
    programFor(connection, who).methods.writeOutput({ offset: 0, totalLen: data.length, data: Buffer.from(data) }).accountsPartial({ writer: who.publicKey, request, output: outputPda(request) }).rpc();
  await rejectsWith(write(members[0].kp, "five"), "OutputHashMismatch");
  await rejectsWith(write(wallet, "four"), "NotCommitteeMember");
  await write(members[0].kp, "four");
  await rejectsWith(write(members[1].kp, "four"), "OutputAlreadyComplete");
});

test("only the authority pauses; a paused protocol refuses new requests", async () => {
  await rejectsWith(program.methods.setPaused(true).accountsPartial({ authority: wallet.publicKey, config }).rpc(), "Unauthorized");
  const admin = programFor(connection, readKeypair(info.authority_keypair));
  await admin.methods.setPaused(true).accountsPartial({ authority: admin.provider.publicKey!, config }).rpc();
  try {
    assert.equal((await program.account.config.fetch(config)).paused, true);
    await rejectsWith(submit(), "ProtocolPaused");
  } finally {
    await admin.methods.setPaused(false).accountsPartial({ authority: admin.provider.publicKey!, config }).rpc();
  }
  assert.equal((await program.account.config.fetch(config)).paused, false);
  assert.deepEqual((await feed.waitFor((e) => e.name === "pauseSet" && e.data.paused === false)).data, { paused: false });
  const sm = await program.account.model.fetch(ops.model);
  await submit({ fee: sm.pricePerToken.muln(4) }, program, freshNonce(), undefined, ops.model); // open again
});
