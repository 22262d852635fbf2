//! Long prompts through the IDL client: a ~1.6 KB prompt written in chunks to a Prompt account
//! (create_prompt, write_prompt; the SDK's `putPrompt` resuming a partly written one), submitted with it, answered by `verity localnet`'s real nodes (they read the
//! account, check its hash) and finalized in agreement; a chunk out of order and a wrong hash refused with the
//! program's own errors; an unused Prompt closed with its rent back.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { GREEDY, PROMPT_CHUNK_BYTES, closePrompt, freshNonce, modelPda, promptChunks, promptPda, promptSpace, putPrompt, requestPda, variant, type PromptStep } from "@verity/sdk";
import { connect, loadInfo, programFor, readKeypair, waitForOperatorsEffective, waitUntil } from "../lib/localnet";
import { subscribeEvents } from "../lib/events";
import { rejectsWith } from "../lib/expect";

const info = loadInfo();
const connection = connect(info);
const wallet = readKeypair(info.wallet_keypair);
const program = programFor(connection, wallet);
const feed = subscribeEvents(program);
after(async () => {
  await feed.stop();
});
await waitForOperatorsEffective(program);

const CHUNK = PROMPT_CHUNK_BYTES;
const sha = (b: Buffer) => [...createHash("sha256").update(b).digest()];

async function createPrompt(data: Buffer, hash = sha(data)) {
  const nonce = freshNonce();
  const prompt = promptPda(wallet.publicKey, nonce);
  await program.methods.createPrompt(nonce, data.length, hash).accountsPartial({ owner: wallet.publicKey, prompt }).rpc();
  return { nonce, prompt };
}

async function writeAll(prompt: ReturnType<typeof promptPda>, data: Buffer) {
  for (let off = 0; off < data.length; off += CHUNK) {
    await program.methods.writePrompt(off, data.subarray(off, off + CHUNK)).accountsPartial({ owner: wallet.publicKey, prompt }).rpc();
  }
}

function longPrompt(): Buffer {
  const facts = Array.from({ length: 40 }, (_, i) => `Fact ${i + 1}: the number ${i + 1} squared is ${(i + 1) ** 2}.`);
  return Buffer.from(`${facts.join(" ")} Question: what is 7 squared? Answer with the number only.`);
}

test("a 1.6 KB prompt written in chunks is answered by the nodes and finalized", async () => {
  const data = longPrompt();
  assert.ok(data.length > 1500, `${data.length} bytes: more than two inline prompts (640)`);
  // A first chunk by hand (an upload cut short), then the SDK's putPrompt resumes: only the missing chunks.
  const { nonce: promptNonce, prompt } = await createPrompt(data);
  await feed.waitFor((e) => e.name === "promptCreated" && e.data.prompt.equals(prompt));
  assert.equal(await connection.getBalance(prompt), await connection.getMinimumBalanceForRentExemption(promptSpace(data.length)), "promptSpace = the account's size");
  await program.methods.writePrompt(0, data.subarray(0, CHUNK)).accountsPartial({ owner: wallet.publicKey, prompt }).rpc();
  const steps: PromptStep[] = [];
  const put = await putPrompt(program, wallet.publicKey, promptNonce, data, (step, send) => (steps.push(step), send()));
  assert.ok(put && put.prompt.equals(prompt) && Buffer.from(put.hash).equals(Buffer.from(sha(data))));
  assert.deepEqual(steps.map((x) => [x.index, x.of]), promptChunks(data.length, CHUNK).map((_, i, a) => [i + 1, a.length]), "create and chunk 1 not resent");
  assert.ok(steps.length >= 1 && steps.every((x) => x.label.startsWith("Write prompt bytes")), JSON.stringify(steps));
  // Another prompt under the same nonce is refused before any transaction.
  await assert.rejects(putPrompt(program, wallet.publicKey, promptNonce, Buffer.from("short")), /already holds another prompt/);
  const written = await feed.waitFor((e) => e.name === "promptWritten" && e.data.prompt.equals(prompt) && e.data.written === data.length);
  assert.equal(written.data.written, data.length);
  const model = modelPda(info.model.id);
  const m = await program.account.model.fetch(model);
  const nonce = freshNonce();
  const request = requestPda(wallet.publicKey, nonce);
  const maxTokens = 6;
  await program.methods
    .submitRequest({ nonce, prompt: Buffer.alloc(0), promptHash: sha(data), promptUri: "", maxTokens, fee: m.pricePerToken.muln(maxTokens), outputCapacity: 256, callbackProgram: null, sampling: GREEDY })
    .accountsPartial({ requester: wallet.publicKey, model, request, prompt })
    .rpc();
  const r0 = await program.account.request.fetch(request);
  assert.ok(r0.promptAccount?.equals(prompt), "the request names its Prompt account");
  assert.deepEqual([...r0.promptHash], sha(data));
  const p = await program.account.prompt.fetch(prompt);
  assert.ok(p.request?.equals(request), "the Prompt is attached (read-only) to the request");
  // Attached: no more writes.
  await rejectsWith(program.methods.writePrompt(0, Buffer.from("x")).accountsPartial({ owner: wallet.publicKey, prompt }).rpc(), "PromptAttached");
  const r = await waitUntil("the long-prompt request to finalize", async () => {
    const x = await program.account.request.fetch(request);
    return ["finalized", "noConsensus", "expired"].includes(variant(x.status)) && x;
  }, 180_000);
  assert.equal(variant(r.status), "finalized");
  assert.equal(r.receipt.agreementCount, r.committeeSize, "every node read the same prompt and agreed");
  assert.ok(r.receipt.tokensIn > 300, `tokens in ${r.receipt.tokensIn}: the whole prompt was read`);
});

test("an out-of-order chunk and a wrong hash are refused; an unused Prompt closes with its rent back", async () => {
  const data = longPrompt();
  const { prompt } = await createPrompt(data);
  await rejectsWith(program.methods.writePrompt(CHUNK, data.subarray(CHUNK, 2 * CHUNK)).accountsPartial({ owner: wallet.publicKey, prompt }).rpc(), "PromptChunkOutOfOrder");
  const model = modelPda(info.model.id);
  const m = await program.account.model.fetch(model);
  const submitWith = (hash: number[]) => {
    const nonce = freshNonce();
    return program.methods
      .submitRequest({ nonce, prompt: Buffer.alloc(0), promptHash: hash, promptUri: "", maxTokens: 4, fee: m.pricePerToken.muln(4), outputCapacity: 64, callbackProgram: null, sampling: GREEDY })
      .accountsPartial({ requester: wallet.publicKey, model, request: requestPda(wallet.publicKey, nonce), prompt })
      .rpc();
  };
  await rejectsWith(submitWith(sha(data)), "PromptIncomplete");
  await writeAll(prompt, data);
  const wrong = sha(Buffer.from("another prompt"));
  await rejectsWith(submitWith(wrong), "PromptHashMismatch");
  // Declared with a hash its bytes do not have: refused at submit even when the arguments repeat it.
  const liar = await createPrompt(data, wrong);
  await writeAll(liar.prompt, data);
  const liarNonce = freshNonce();
  await rejectsWith(
    program.methods
      .submitRequest({ nonce: liarNonce, prompt: Buffer.alloc(0), promptHash: wrong, promptUri: "", maxTokens: 4, fee: m.pricePerToken.muln(4), outputCapacity: 64, callbackProgram: null, sampling: GREEDY })
      .accountsPartial({ requester: wallet.publicKey, model, request: requestPda(wallet.publicKey, liarNonce), prompt: liar.prompt })
      .rpc(),
    "PromptHashMismatch",
  );
  for (const k of [prompt, liar.prompt]) {
    const rent = await connection.getBalance(k);
    const before = await connection.getBalance(wallet.publicKey);
    await closePrompt(program, wallet.publicKey, k).rpc();
    assert.equal(await connection.getAccountInfo(k), null, "the Prompt account is gone");
    const after = await connection.getBalance(wallet.publicKey);
    assert.ok(after > before && after <= before + rent, "its rent came back (less the transaction fee)");
    await feed.waitFor((e) => e.name === "promptClosed" && e.data.prompt.equals(k));
  }
});
