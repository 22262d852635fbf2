//! Full rounds through the IDL client only. First a real one: submit a prompt, follow the request over websocket
//! (accountSubscribe + logsSubscribe) while `verity localnet`'s three oracle nodes assign it, run SmolLM2, commit,
//! reveal, finalize and write the output; read the output back and check it against the winning hash, the
//! receipt and the fee split; close refused during the dispute window; rewards claimed (by the nodes or by this
//! test); request closed. A sampled request (temperature, top-p, seed) stored and announced as sent, answered by
//! the nodes in agreement. Then a round with a liar, played by scripted operators on their own model (the real
//! nodes are honest): the liar is in the minority and slashed.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import BN from "bn.js";
import { PublicKey } from "@solana/web3.js";
import { GREEDY, type Sampling, approxFlops, formatSampling, samplingFromUser, configPda, feeSplit, freshNonce, modelPda, outputHash, outputPda, operatorPda, requestPda, requestSpace, outputSpace, toHex, variant, claimReward, closeRequest, explainError, earningsOf, claimableAt, claimEarnings, unlockSlot } from "@verity/sdk";
import { connect, loadInfo, programFor, readKeypair, waitForOperatorsEffective, waitForSlot, waitUntil } from "../lib/localnet";
import { driveRound, scriptedOperators } from "../lib/scripted";
import { subscribeEvents } from "../lib/events";
import { rejectsWith } from "../lib/expect";

const info = loadInfo();
const connection = connect(info);
const wallet = readKeypair(info.wallet_keypair);
const program = programFor(connection, wallet);
const feed = subscribeEvents(program);
const subs: number[] = [];
after(async () => {
  await feed.stop();
  for (const id of subs) await connection.removeAccountChangeListener(id);
});
// The scripted model + operators need the registry's activation delay (~60 s): set up while the real round runs.
const scripted = scriptedOperators(connection, info);
scripted.catch(() => {}); // awaited (and reported) by the test that needs it
// A fresh localnet's bootstrapped operators are drawable only after the same delay.
await waitForOperatorsEffective(program);

async function submit(prompt: string, maxTokens: number, capacity: number, model = modelPda(info.model.id), sampling: Sampling = GREEDY) {
  const m = await program.account.model.fetch(model);
  const nonce = freshNonce();
  const fee = m.pricePerToken.muln(maxTokens);
  const request = requestPda(wallet.publicKey, nonce);
  await program.methods
    .submitRequest({ nonce, prompt: Buffer.from(prompt), promptHash: null, promptUri: "", maxTokens, fee, outputCapacity: capacity, callbackProgram: null, sampling })
    .accountsPartial({ requester: wallet.publicKey, model, request, prompt: null })
    .rpc();
  return { request, fee, model: m, nonce };
}

test("submit → the oracle nodes answer → follow to finalized, output, receipt, fee split, rewards, close", { timeout: 600_000 }, async () => {
  const prompt = "What is the capital of France?";
  const maxTokens = 16;
  const cfg = await program.account.config.fetch(configPda());
  const ownerBefore = await connection.getBalance((await program.account.model.fetch(modelPda(info.model.id))).owner);
  const { request, fee, model } = await submit(prompt, maxTokens, 256);

  // Follow the request over websocket from here on.
  const statuses: string[] = [];
  subs.push(
    connection.onAccountChange(request, (a) => a.data.length && statuses.push(variant(program.coder.accounts.decode("request", a.data).status)), { commitment: "confirmed" }),
  );
  let req = await program.account.request.fetch(request);
  assert.equal(new TextDecoder().decode(Uint8Array.from(req.prompt)), prompt);
  assert.equal(req.fee.toString(), fee.toString());
  assert.equal(toHex(req.profileHash), info.model.profile_hash, "the request pins the model's profile hash");
  const acct = await connection.getAccountInfo(request);
  assert.equal(acct!.data.length, requestSpace(prompt.length, 0, cfg.params.committeeSize), "the app's rent estimate uses the real size");
  assert.equal((await connection.getAccountInfo(outputPda(request)))!.data.length, outputSpace(256));
  const submitted = await feed.waitFor((e) => e.name === "requestSubmitted" && e.data.request.equals(request));
  assert.equal(submitted.data.fee.toString(), fee.toString());

  // The nodes crank assign_committee within a few slots, then infer, commit and reveal.
  const submitSlot = req.submitSlot.toNumber();
  await waitUntil("the nodes to assign the committee", async () => {
    const r = await program.account.request.fetch(request);
    if (variant(r.status) === "expired") throw new Error("the request expired unassigned: no oracle node assigned it");
    return variant(r.status) !== "pending";
  }, 120_000);
  req = await waitUntil("the nodes to finalize the request", async () => {
    const r = await program.account.request.fetch(request);
    return ["finalized", "noConsensus"].includes(variant(r.status)) && r;
  }, 300_000, 300);
  assert.equal(variant(req.status), "finalized", `members: ${JSON.stringify(req.committee.members.map((m) => [variant(m.state), variant(m.outcome)]))}`);
  // Rewards are locked during the dispute window, so the requester cannot close yet.
  await rejectsWith(closeRequest(program, request, wallet.publicKey).rpc(), "RewardsLocked");

  const authorities = new Set(info.operators.map((o) => o.authority));
  assert.equal(req.committee.members.length, cfg.params.committeeSize);
  assert.ok(req.committee.members.every((m) => authorities.has(m.operator.toBase58())), "the committee is drawn from the localnet's operators");
  assert.ok(req.committee.members.every((m) => variant(m.outcome) === "agreed"), "honest nodes agree bit for bit");
  const out = await waitUntil("a node to write the output", async () => {
    const o = await program.account.output.fetch(outputPda(request));
    return o.complete && o;
  }, 120_000);
  const text = new TextDecoder().decode(Uint8Array.from(out.data));
  assert.ok(text.length > 0, "the model produced text");
  assert.equal(toHex(req.winningHash), toHex(outputHash(req.profileHash, Uint8Array.from(out.data))), "output = the committed winning hash");
  assert.ok(req.receipt.tokensOut >= 1 && req.receipt.tokensOut <= maxTokens, `tokens out ${req.receipt.tokensOut}`);
  assert.equal(req.receipt.agreementCount, cfg.params.committeeSize);
  assert.equal(req.receipt.committeeSize, cfg.params.committeeSize);
  assert.ok(req.receipt.model.equals(modelPda(info.model.id)));
  assert.equal(req.receipt.feePaid.toString(), fee.toString());
  assert.equal(req.receipt.pricePerToken.toString(), model.pricePerToken.toString());
  assert.equal(req.receipt.paramCount.toString(), model.paramCount.toString(), "the receipt snapshots the model's parameter count");
  assert.ok(model.paramCount.gtn(0), "the bootstrapped model registers its parameter count");
  assert.equal(req.receipt.approxFlops.toString(), approxFlops(model.paramCount, req.receipt.tokensIn, req.receipt.tokensOut).toString(), "≈FLOPs = 2 × params × tokens");
  assert.ok(req.finalizedSlot.toNumber() > submitSlot);
  const split = feeSplit(BigInt(fee.toString()), model.royaltyBps, cfg.params.protocolFeeBps, req.receipt.agreementCount);
  assert.equal(req.royaltyPaid.toString(), split.royalty.toString());
  assert.equal(BigInt(await connection.getBalance(model.owner)) - BigInt(ownerBefore), split.royalty, "model owner got the royalty");
  for (const m of req.committee.members) assert.equal(m.reward.toString(), split.perMember.toString());
  console.log(`# the nodes answered ${JSON.stringify(prompt)} with ${JSON.stringify(text)} (${req.receipt.tokensOut} tokens, ${req.finalizedSlot.toNumber() - submitSlot} slots)`);

  for (const name of ["committeeAssigned", "resultCommitted", "resultRevealed", "requestFinalized", "outputWritten"]) {
    await feed.waitFor((e) => e.name === name && e.data.request.equals(request));
  }
  const fin = await feed.waitFor((e) => e.name === "requestFinalized" && e.data.request.equals(request));
  assert.equal(variant(fin.data.status), "finalized");
  assert.equal(feed.events.filter((e) => e.name === "resultCommitted" && e.data.request.equals(request)).length, cfg.params.committeeSize);
  assert.ok(statuses.includes("committing") && statuses.includes("finalized"), `websocket saw ${statuses.join(" → ")}`);

  // After the dispute window the nodes claim their rewards; claim whatever is left (anyone may crank).
  await waitForSlot(connection, req.finalizedSlot.toNumber() + cfg.params.disputeWindow.toNumber() + 1);
  for (const m of req.committee.members) {
    try {
      await claimReward(program, request, m.operator).rpc();
    } catch (e) {
      // A node claimed first, before our preflight or between it and our transaction (then ours fails on chain,
      // and VerityAnchorProvider still reads the program's error from its logs).
      assert.equal(explainError(e).name, "AlreadyClaimed", explainError(e).message);
    }
  }
  req = await program.account.request.fetch(request);
  assert.ok(req.committee.members.every((m) => m.claimed));
  assert.equal(req.rewardsClaimed.toString(), req.rewardsTotal.toString());
  for (const m of req.committee.members) {
    const ev = await feed.waitFor((e) => e.name === "rewardClaimed" && e.data.request.equals(request) && e.data.operator.equals(m.operator));
    assert.equal(ev.data.amount.toString(), m.reward.toString());
  }
  await closeRequest(program, request, wallet.publicKey).rpc();
  assert.equal(await program.account.request.fetchNullable(request), null);
  assert.equal(await connection.getAccountInfo(outputPda(request)), null);
  await feed.waitFor((e) => e.name === "requestClosed" && e.data.request.equals(request));
});

test("a sampled request: the program keeps the sampling as sent, the event carries it, the nodes agree on the output", { timeout: 600_000 }, async () => {
  const sampling = samplingFromUser({ temperature: 0.7, topP: 0.95 }); // a random u64 seed, drawn by the SDK
  assert.deepEqual([sampling.temperatureMilli, sampling.topPMilli], [700, 950]);
  const { request, fee } = await submit("Write a short line about the sea.", 8, 128, modelPda(info.model.id), sampling);
  const plain = (s: Sampling) => ({ temperatureMilli: s.temperatureMilli, topPMilli: s.topPMilli, seed: s.seed.toString() });
  let req = await program.account.request.fetch(request);
  assert.deepEqual(plain(req.sampling), plain(sampling), "Request.sampling = what was sent");
  assert.equal(formatSampling(req.sampling), `T 0.700 · top-p 0.950 · seed ${sampling.seed.toString()}`);
  const submitted = await feed.waitFor((e) => e.name === "requestSubmitted" && e.data.request.equals(request));
  assert.deepEqual(plain(submitted.data.sampling as Sampling), plain(sampling), "RequestSubmitted.sampling = what was sent");

  // The nodes decode with it (NUMERICS.md §7) and, being deterministic given the seed, agree bit for bit.
  req = await waitUntil("the nodes to finalize the sampled request", async () => {
    const r = await program.account.request.fetch(request);
    if (variant(r.status) === "expired") throw new Error("the sampled request expired unassigned");
    return ["finalized", "noConsensus"].includes(variant(r.status)) && r;
  }, 300_000, 300);
  assert.equal(variant(req.status), "finalized", `members: ${JSON.stringify(req.committee.members.map((m) => [variant(m.state), variant(m.outcome)]))}`);
  assert.equal(req.receipt.agreementCount, req.committeeSize, "every member produced the same sampled output");
  assert.equal(req.receipt.feePaid.toString(), fee.toString());
  assert.deepEqual(plain(req.sampling), plain(sampling));
  const out = await waitUntil("a node to write the sampled output", async () => {
    const o = await program.account.output.fetch(outputPda(request));
    return o.complete && o;
  }, 120_000);
  assert.equal(toHex(req.winningHash), toHex(outputHash(req.profileHash, Uint8Array.from(out.data))));
  console.log(`# sampled (${formatSampling(req.sampling)}): ${JSON.stringify(new TextDecoder().decode(Uint8Array.from(out.data)))} (${req.receipt.tokensOut} tokens)`);
});

test("a member revealing a different output is in the minority and slashed (scripted operators)", { timeout: 600_000 }, async () => {
  const s = await scripted;
  const cfg = await program.account.config.fetch(configPda());
  assert.ok(cfg.params.committeeSize >= 3, "needs k ≥ 3 for a 2-vs-1 majority");
  const { request } = await submit("Name a primary colour.", 8, 128, s.model);
  const answer = await driveRound(s, request, { liars: [0], noWrite: true });
  const req = await program.account.request.fetch(request);
  assert.equal(variant(req.status), "finalized");
  const liar = req.committee.members[0];
  assert.ok(s.byAuthority.has(liar.operator.toBase58()));
  assert.equal(variant(liar.outcome), "minority");
  assert.ok(req.committee.members.slice(1).every((m) => variant(m.outcome) === "agreed"));
  assert.equal(toHex(req.winningHash), toHex(outputHash(req.profileHash, answer.text)));
  assert.equal(liar.reward.toNumber(), 0);
  assert.ok(liar.slashed.gtn(0));
  const op = await program.account.operator.fetch(operatorPda(liar.operator));
  assert.ok(op.minority.gten(1) && op.slashedTotal.gte(liar.slashed));
  const slashed = await feed.waitFor((e) => e.name === "operatorSlashed" && e.data.request.equals(request));
  assert.ok((slashed.data.authority as PublicKey).equals(liar.operator));
  assert.equal(variant(slashed.data.outcome), "minority", "slashed for being in the minority");
  assert.equal(slashed.data.amount.toString(), liar.slashed.toString());
  assert.equal(req.receipt.agreementCount, cfg.params.committeeSize - 1);
  assert.ok(new BN(req.committee.members[1].reward).gtn(0));

  // Earnings and "Claim all" (the app's batch withdraw), paid by this test's wallet for each agreed member.
  const agreed = req.committee.members.slice(1);
  const before = await earningsOf(program, agreed[0].operator);
  const mine = before.filter((e) => e.request.equals(request));
  assert.equal(mine.length, 1);
  assert.equal(mine[0].amount.toString(), agreed[0].reward.toString());
  assert.equal(mine[0].unlockSlot, unlockSlot(req));
  assert.equal(claimableAt(mine, unlockSlot(req) - 1).length, 0, "locked during the dispute window");
  assert.equal((await earningsOf(program, liar.operator)).filter((e) => e.request.equals(request)).length, 0, "the liar earned nothing");
  await waitForSlot(connection, unlockSlot(req));
  for (const m of agreed) {
    const balance = await connection.getBalance(m.operator);
    const res = await claimEarnings(program, m.operator);
    assert.ok(res.claimed >= 1 && res.signatures.length >= 1);
    assert.equal(BigInt(await connection.getBalance(m.operator)) - BigInt(balance), res.lamports, "the authority got every claimed lamport");
    assert.equal((await earningsOf(program, m.operator)).filter((e) => e.request.equals(request)).length, 0);
  }
  const settled = await program.account.request.fetch(request);
  assert.ok(settled.committee.members.slice(1).every((m) => m.claimed));
  assert.equal(settled.rewardsClaimed.toString(), settled.rewardsTotal.toString());
});
