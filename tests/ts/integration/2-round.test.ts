//! A full round through the IDL client only: submit, follow (accountSubscribe + logsSubscribe), committee
//! (driven by the test operator driver), finalize, output read back and checked against the winning hash,
//! receipt and fee split, rewards claimed after the dispute window, request closed; then a round with a liar.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { PublicKey } from "@solana/web3.js";
import { configPda, feeSplit, freshNonce, modelPda, outputHash, outputPda, operatorPda, requestPda, requestSpace, outputSpace, toHex, variant } from "../../../app/src/lib/protocol";
import { claimReward, closeRequest } from "../../../app/src/lib/cranks";
import { connect, loadInfo, programFor, readKeypair, waitForOperatorsEffective, waitForSlot } from "../lib/localnet";
import { driveRound, loadOperators } from "../lib/operator-driver";
import { subscribeEvents } from "../lib/events";

const info = loadInfo();
const connection = connect(info);
const wallet = readKeypair(info.wallet_keypair);
const program = programFor(connection, wallet);
const ops = loadOperators(connection, info);
const feed = subscribeEvents(program);
const subs: number[] = [];
after(async () => {
  await feed.stop();
  for (const id of subs) await connection.removeAccountChangeListener(id);
});
await waitForOperatorsEffective(program);

async function submit(prompt: string, maxTokens = 16, capacity = 256) {
  const model = await program.account.model.fetch(modelPda(info.model.id));
  const nonce = freshNonce();
  const fee = model.pricePerToken.muln(maxTokens);
  const request = requestPda(wallet.publicKey, nonce);
  await program.methods
    .submitRequest({ nonce, prompt: Buffer.from(prompt), promptHash: null, promptUri: "", maxTokens, fee, outputCapacity: capacity, callbackProgram: null })
    .accountsPartial({ requester: wallet.publicKey, model: modelPda(info.model.id), request })
    .rpc();
  return { request, fee, model, nonce };
}

test("submit → follow → finalized output, receipt, rewards, close", async () => {
  const prompt = "What is the capital of France?";
  const cfg = await program.account.config.fetch(configPda());
  const ownerBefore = await connection.getBalance((await program.account.model.fetch(modelPda(info.model.id))).owner);
  const { request, fee, model } = await submit(prompt, 16, 256);

  // Follow the request over websocket from here on.
  const statuses: string[] = [];
  const sub = connection.onAccountChange(request, (a) => a.data.length && statuses.push(variant(program.coder.accounts.decode("request", a.data).status)), { commitment: "confirmed" });
  subs.push(sub);

  let req = await program.account.request.fetch(request);
  assert.equal(variant(req.status), "pending");
  assert.equal(req.fee.toString(), fee.toString());
  assert.equal(new TextDecoder().decode(Uint8Array.from(req.prompt)), prompt);
  const acct = await connection.getAccountInfo(request);
  assert.equal(acct!.data.length, requestSpace(prompt.length, 0, cfg.params.committeeSize), "the app's rent estimate uses the real size");
  assert.equal((await connection.getAccountInfo(outputPda(request)))!.data.length, outputSpace(256));
  const submitted = await feed.waitFor((e) => e.name === "requestSubmitted" && e.data.request.equals(request));
  assert.equal(submitted.data.fee.toString(), fee.toString());

  const answer = await driveRound(connection, ops, request);

  req = await program.account.request.fetch(request);
  assert.equal(variant(req.status), "finalized");
  assert.equal(req.members.length, cfg.params.committeeSize);
  assert.ok(req.members.every((m) => variant(m.outcome) === "agreed"));
  assert.equal(toHex(req.winningHash), toHex(outputHash(req.profileHash, answer.text)));
  const out = await program.account.output.fetch(outputPda(request));
  assert.equal(out.complete, true);
  assert.equal(new TextDecoder().decode(Uint8Array.from(out.data)), answer.text);
  assert.equal(req.receipt.tokensOut, answer.tokensOut);
  assert.equal(req.receipt.agreementCount, cfg.params.committeeSize);
  assert.ok(req.receipt.model.equals(modelPda(info.model.id)));
  const split = feeSplit(BigInt(fee.toString()), model.royaltyBps, cfg.params.protocolFeeBps, req.receipt.agreementCount);
  assert.equal(req.royaltyPaid.toString(), split.royalty.toString());
  assert.equal(BigInt(await connection.getBalance(model.owner)) - BigInt(ownerBefore), split.royalty, "model owner got the royalty");
  assert.equal(req.members[0].reward.toString(), split.perMember.toString());

  for (const name of ["committeeAssigned", "resultCommitted", "resultRevealed", "requestFinalized", "outputWritten"]) {
    await feed.waitFor((e) => e.name === name && e.data.request.equals(request));
  }
  const fin = await feed.waitFor((e) => e.name === "requestFinalized" && e.data.request.equals(request));
  assert.equal(variant(fin.data.status), "finalized");
  assert.ok(statuses.includes("committing") && statuses.at(-1) === "finalized", `websocket saw ${statuses.join(" → ")}`);
  await connection.removeAccountChangeListener(subs.pop()!);

  // Rewards unlock after the dispute window; closing before that is refused.
  await assert.rejects(closeRequest(program, request, wallet.publicKey).rpc());
  await waitForSlot(connection, Number(req.finalizedSlot) + cfg.params.disputeWindow.toNumber() + 1);
  for (const m of req.members) {
    const before = await connection.getBalance(m.operator);
    await claimReward(program, request, m.operator).rpc();
    assert.equal(BigInt(await connection.getBalance(m.operator)) - BigInt(before), BigInt(m.reward.toString()));
  }
  await feed.waitFor((e) => e.name === "rewardClaimed" && e.data.request.equals(request));
  await closeRequest(program, request, wallet.publicKey).rpc();
  assert.equal(await program.account.request.fetchNullable(request), null);
  assert.equal(await connection.getAccountInfo(outputPda(request)), null);
  await feed.waitFor((e) => e.name === "requestClosed" && e.data.request.equals(request));
});

test("a member revealing a different output is in the minority and slashed", async () => {
  const cfg = await program.account.config.fetch(configPda());
  assert.ok(cfg.params.committeeSize >= 3, "needs k ≥ 3 for a 2-vs-1 majority");
  const { request } = await submit("Name a primary colour.", 8, 128);
  const answer = await driveRound(connection, ops, request, { liars: [0], noWrite: true });
  const req = await program.account.request.fetch(request);
  assert.equal(variant(req.status), "finalized");
  const liar = req.members[0];
  assert.equal(variant(liar.outcome), "minority");
  assert.ok(req.members.slice(1).every((m) => variant(m.outcome) === "agreed"));
  assert.equal(toHex(req.winningHash), toHex(outputHash(req.profileHash, answer.text)));
  assert.equal(liar.reward.toNumber(), 0);
  assert.ok(liar.slashed.gtn(0));
  const op = await program.account.operator.fetch(operatorPda(liar.operator));
  assert.ok(op.minority.gten(1) && op.slashedTotal.gte(liar.slashed));
  const slashed = await feed.waitFor((e) => e.name === "operatorSlashed" && e.data.request.equals(request));
  assert.ok((slashed.data.authority as PublicKey).equals(liar.operator));
  assert.equal(slashed.data.reason, 1, "reason 1 = minority");
  assert.equal(slashed.data.amount.toString(), liar.slashed.toString());
  assert.equal(req.receipt.agreementCount, cfg.params.committeeSize - 1);
});
