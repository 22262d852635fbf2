//! Second rounds through the IDL client, played by the scripted operators (lib/scripted.ts) on their own model:
//! a challenge of a finalized result that a fresh 2k+1 committee overturns (first majority slashed, verdict,
//! rewards claimed, Dispute account decoded and closed), and a first round without a strict majority that
//! escalates. (The real nodes are honest and never disagree, so they cannot play these.)
import { after, test } from "node:test";
import assert from "node:assert/strict";
import type { PublicKey } from "@solana/web3.js";
import { GREEDY, commitmentHash, configPda, disputePda, drawAccounts, freshNonce, operatorPda, outputHash, outputPda, payoutAccounts, randomSalt, registryPda, requestPda, toHex, variant, explainError } from "@verity/sdk";
import { connect, loadInfo, programFor, readKeypair, sleep } from "../lib/localnet";
import { driveRound, scriptedOperators } from "../lib/scripted";
import { subscribeEvents } from "../lib/events";
import { rejectsWith } from "../lib/expect";

const info = loadInfo();
const connection = connect(info);
const wallet = readKeypair(info.wallet_keypair);
const program = programFor(connection, wallet);
const feed = subscribeEvents(program);
after(() => feed.stop());
const s = await scriptedOperators(connection, info);
const config = configPda();
const cfg = await program.account.config.fetch(config);
const k = cfg.params.committeeSize;

async function submit(prompt: string, maxTokens = 8) {
  const m = await program.account.model.fetch(s.model);
  const nonce = freshNonce();
  const request = requestPda(wallet.publicKey, nonce);
  await program.methods
    .submitRequest({ nonce, prompt: Buffer.from(prompt), promptHash: null, promptUri: "", maxTokens, fee: m.pricePerToken.muln(maxTokens), outputCapacity: 128, callbackProgram: null, sampling: GREEDY })
    .accountsPartial({ requester: wallet.publicKey, model: s.model, request, prompt: null })
    .rpc();
  return request;
}

// Started now: the silent members make this round last its whole reveal window, while the challenge runs.
const escalation = (async () => {
  const request = await submit("Escalate me.");
  await driveRound(s, request, { silent: [0, 1], noWrite: true });
  return request;
})();
escalation.catch(() => {});

test("a challenged result is overturned by a fresh 2k+1 committee; its first majority is slashed", { timeout: 600_000 }, async () => {
  const request = await submit("Challenge me.");
  const first = await driveRound(s, request, { noWrite: true });
  let req = await program.account.request.fetch(request);
  assert.equal(variant(req.status), "finalized");
  const originalHash = toHex(req.winningHash);

  // Within the dispute window anyone may challenge, posting the dispute bond.
  const dispute = disputePda(request);
  const bondBefore = await connection.getBalance(wallet.publicKey);
  await program.methods.openDispute().accountsPartial({ challenger: wallet.publicKey, config, registry: registryPda(), request, dispute }).rpc();
  req = await program.account.request.fetch(request);
  assert.equal(variant(req.status), "disputed");
  assert.ok(bondBefore - (await connection.getBalance(wallet.publicKey)) >= cfg.params.disputeBond.toNumber());
  await rejectsWith(program.methods.openDispute().accountsPartial({ challenger: wallet.publicKey, config, registry: registryPda(), request, dispute }).rpc(), "AlreadyDisputed");
  let d = await program.account.dispute.fetch(dispute);
  assert.equal(variant(d.kind), "challenge");
  assert.equal(variant(d.phase), "open");
  assert.equal(d.committeeSize, 2 * k + 1);
  assert.equal(toHex(d.originalHash), originalHash);

  for (let i = 0; ; i++) {
    try {
      await program.methods.assignDispute().accountsPartial({ draw: drawAccounts(program), request, dispute }).rpc();
      break;
    } catch (e) {
      if (explainError(e).name !== "SlotHashNotYetAvailable" || i >= 40) throw e;
      await sleep(400);
    }
  }
  d = await program.account.dispute.fetch(dispute);
  assert.equal(d.committee.members.length, 2 * k + 1);
  const firstMembers = req.committee.members.map((m) => m.operator.toBase58());
  assert.ok(d.committee.members.every((m) => !firstMembers.includes(m.operator.toBase58())), "the 2k+1 committee excludes the first committee");

  // Every fresh member finds a different output than the first committee did.
  const answer = `${first.text} (corrected)`;
  const oh = outputHash(req.profileHash, answer);
  const plan = d.committee.members.map((m) => {
    const kp = s.byAuthority.get(m.operator.toBase58())!;
    const salt = randomSalt();
    return { kp, p: programFor(connection, kp), salt, c: commitmentHash(dispute, kp.publicKey, oh, salt) };
  });
  for (const m of plan) await m.p.methods.commitDispute(Array.from(m.c)).accountsPartial({ operator: m.kp.publicKey, dispute }).rpc();
  for (const m of plan) {
    await m.p.methods
      .revealDispute({ outputHash: Array.from(oh), salt: Array.from(m.salt), tokensIn: first.tokensIn, tokensOut: first.tokensOut })
      .accountsPartial({ operator: m.kp.publicKey, dispute })
      .rpc();
  }
  const locked = req.committee.members.filter((_, i) => (d.lockedFirst & (1 << i)) !== 0);
  assert.equal(locked.length, k, "the first majority's assignments were held");
  await program.methods
    .resolveDispute()
    .accountsPartial({ payout: (await payoutAccounts(program, request)).payout, output: outputPda(request), dispute, opener: wallet.publicKey })
    .remainingAccounts([...d.committee.members, ...locked].map((m) => ({ pubkey: operatorPda(m.operator), isWritable: true, isSigner: false })))
    .rpc();

  d = await program.account.dispute.fetch(dispute);
  req = await program.account.request.fetch(request);
  assert.equal(variant(d.phase), "resolved");
  assert.equal(variant(d.verdict), "overturned");
  assert.equal(toHex(d.winningHash), toHex(oh));
  assert.equal(toHex(req.winningHash), toHex(oh), "the request now carries the 2k+1 majority's hash");
  assert.equal(variant(req.status), "finalized");
  assert.equal(req.round, 1);
  assert.ok(req.committee.members.every((m) => variant(m.outcome) === "overturned" && m.reward.isZero()));
  const resolved = await feed.waitFor((e) => e.name === "disputeResolved" && e.data.request.equals(request));
  assert.equal(variant(resolved.data.verdict), "overturned");
  for (const m of req.committee.members) {
    await feed.waitFor((e) => e.name === "operatorSlashed" && e.data.request.equals(request) && (e.data.authority as PublicKey).equals(m.operator));
  }
  assert.equal((await program.account.output.fetch(outputPda(request))).complete, false, "the overturned output was cleared");

  assert.ok(d.committee.members.some((m) => m.reward.gtn(0)), "the 2k+1 majority is paid");
  for (const m of d.committee.members) {
    if (m.reward.isZero()) continue;
    await program.methods.claimDisputeReward().accountsPartial({ operator: m.operator, dispute }).rpc();
    const ev = await feed.waitFor((e) => e.name === "disputeRewardClaimed" && e.data.dispute.equals(dispute) && e.data.operator.equals(m.operator));
    assert.equal(ev.data.amount.toString(), m.reward.toString());
  }
  // The Dispute account stays while the round's majority has not written the overturned output (it writes through
  // it); then anyone closes it.
  const close = () => program.methods.closeDispute().accountsPartial({ dispute, opener: wallet.publicKey, request }).rpc();
  await rejectsWith(close(), "ResultStillNeeded");
  const bytes = Buffer.from(answer);
  await plan[0].p.methods
    .writeOutput({ offset: 0, totalLen: bytes.length, data: bytes })
    .accountsPartial({ writer: plan[0].kp.publicKey, request, output: outputPda(request) })
    .remainingAccounts([{ pubkey: dispute, isWritable: false, isSigner: false }])
    .rpc();
  assert.equal((await program.account.output.fetch(outputPda(request))).complete, true, "the 2k+1 majority wrote the output");
  await close();
  assert.equal(await program.account.dispute.fetchNullable(dispute), null);
  for (const n of ["disputeOpened", "disputeCommitteeAssigned", "disputeResultCommitted", "disputeResultRevealed", "disputeClosed"]) {
    await feed.waitFor((e) => e.name === n && (e.data.dispute as PublicKey).equals(dispute));
  }
});

test("a first round without a strict majority escalates", { timeout: 600_000 }, async () => {
  const request = await escalation;
  const req = await program.account.request.fetch(request);
  assert.equal(variant(req.status), "escalated", JSON.stringify(req.committee.members.map((m) => variant(m.outcome))));
  assert.ok(req.committee.members.slice(0, 2).every((m) => variant(m.outcome) === "noReveal" && m.slashed.gtn(0)));
  await feed.waitFor((e) => e.name === "requestEscalated" && e.data.request.equals(request));
  // The escalation round opens without a bond.
  await program.methods.openDispute().accountsPartial({ challenger: wallet.publicKey, config, registry: registryPda(), request, dispute: disputePda(request) }).rpc();
  const d = await program.account.dispute.fetch(disputePda(request));
  assert.equal(variant(d.kind), "escalation");
  assert.ok(d.bond.isZero());
  const opened = await feed.waitFor((e) => e.name === "disputeOpened" && e.data.request.equals(request));
  assert.equal(variant(opened.data.kind), "escalation");
});
