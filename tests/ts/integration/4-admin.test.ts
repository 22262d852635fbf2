//! Config, model and operator lifecycles through the IDL client: update_config, register/update/deactivate a
//! model, an operator that registers, stakes, unstakes, withdraws after unbonding and deregisters, and a
//! request nobody assigns (scripted model, never assigned by the scripted operators) that expires with a full
//! refund — cranked by this test or, just as well, by a real oracle node (nodes expire any stale request).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import BN from "bn.js";
import { Keypair, LAMPORTS_PER_SOL, PublicKey } from "@solana/web3.js";
import { createAssociatedTokenAccount, getAccount, mintTo } from "@solana/spl-token";
import { GREEDY, configPda, freshNonce, modelPda, operatorPda, registryPda, requestPda, variant, assignCommittee, closeRequest, expireRequest, explainError } from "@verity/sdk";
import { connect, loadInfo, programFor, readKeypair, waitForSlot } from "../lib/localnet";
import { scriptedOperators } from "../lib/scripted";
import { subscribeEvents } from "../lib/events";
import { rejectsWith } from "../lib/expect";

const info = loadInfo();
const connection = connect(info);
const wallet = readKeypair(info.wallet_keypair);
const program = programFor(connection, wallet);
const adminKey = readKeypair(info.authority_keypair);
const admin = programFor(connection, adminKey);
const config = configPda();
const feed = subscribeEvents(program);
after(() => feed.stop());
const cfg = await program.account.config.fetch(config);

// Submitted first so its assign window runs out while the other tests run: on the scripted model (the real nodes
// would assign a request of theirs at once), by a requester of its own so that its balance shows the refund.
const scripted = await scriptedOperators(connection, info);
const expRequester = Keypair.generate();
{
  const sig = await connection.requestAirdrop(expRequester.publicKey, LAMPORTS_PER_SOL);
  await connection.confirmTransaction({ signature: sig, ...(await connection.getLatestBlockhash()) }, "confirmed");
}
const expNonce = freshNonce();
const expRequest = requestPda(expRequester.publicKey, expNonce);
const model = await program.account.model.fetch(scripted.model);
await programFor(connection, expRequester)
  // With a callback program named: a request that ends without a result can no longer deliver it.
  .methods.submitRequest({ nonce: expNonce, prompt: Buffer.from("left alone"), promptHash: null, promptUri: "", maxTokens: 2, fee: model.pricePerToken.muln(2), outputCapacity: 8, callbackProgram: Keypair.generate().publicKey, sampling: GREEDY })
  .accountsPartial({ requester: expRequester.publicKey, model: scripted.model, request: expRequest, prompt: null })
  .rpc();
const expSubmitSlot = (await program.account.request.fetch(expRequest)).submitSlot.toNumber();
const expBalance = await connection.getBalance(expRequester.publicKey, "confirmed");

test("update_config by the authority only", async () => {
  const accounts = { authority: wallet.publicKey, config, treasury: cfg.treasury, treasuryStake: cfg.treasuryStake };
  await rejectsWith(program.methods.updateConfig(cfg.params).accountsPartial(accounts).rpc(), "Unauthorized");
  await rejectsWith(admin.methods.updateConfig({ ...cfg.params, committeeSize: 0 }).accountsPartial({ ...accounts, authority: admin.provider.publicKey! }).rpc(), "InvalidCommitteeSize");
  await admin.methods.updateConfig(cfg.params).accountsPartial({ ...accounts, authority: admin.provider.publicKey! }).rpc();
  const ev = await feed.waitFor((e) => e.name === "configUpdated");
  assert.equal(ev.data.params.committeeSize, cfg.params.committeeSize);
});

test("register, update and deactivate a model", async () => {
  const id = new BN(Date.now());
  const m = modelPda(id);
  const params = { name: "ts-test-model", profileHash: Array(32).fill(3), pricePerToken: new BN(7), maxInputBytes: 64, maxOutputTokens: 16, royaltyBps: 100, paramCount: new BN(1_000_000) };
  await rejectsWith(program.methods.registerModel(id, { ...params, name: "" }).accountsPartial({ owner: wallet.publicKey, authority: adminKey.publicKey, config, model: m }).signers([adminKey]).rpc(), "InvalidModelName");
  await rejectsWith(program.methods.registerModel(id, { ...params, royaltyBps: 5001 }).accountsPartial({ owner: wallet.publicKey, authority: adminKey.publicKey, config, model: m }).signers([adminKey]).rpc(), "InvalidBps");
  await program.methods.registerModel(id, params).accountsPartial({ owner: wallet.publicKey, authority: adminKey.publicKey, config, model: m }).signers([adminKey]).rpc();
  let acct = await program.account.model.fetch(m);
  assert.equal(acct.name, "ts-test-model");
  assert.equal(acct.paramCount.toString(), "1000000");
  assert.equal(acct.index, (await program.account.config.fetch(config)).modelCount - 1);
  await rejectsWith(admin.methods.updateModel({ ...params, pricePerToken: new BN(9) }).accountsPartial({ owner: admin.provider.publicKey!, model: m }).rpc(), "Unauthorized");
  await program.methods.updateModel({ ...params, pricePerToken: new BN(9), paramCount: new BN(2_000_000) }).accountsPartial({ owner: wallet.publicKey, model: m }).rpc();
  assert.equal((await program.account.model.fetch(m)).pricePerToken.toNumber(), 9);
  assert.equal((await program.account.model.fetch(m)).paramCount.toString(), "2000000");
  await program.methods.deactivateModel().accountsPartial({ owner: wallet.publicKey, model: m }).rpc();
  acct = await program.account.model.fetch(m);
  assert.equal(acct.active, false);
  const nonce = freshNonce();
  await rejectsWith(
    program.methods.submitRequest({ nonce, prompt: Buffer.from("x"), promptHash: null, promptUri: "", maxTokens: 1, fee: new BN(9), outputCapacity: 8, callbackProgram: null, sampling: GREEDY }).accountsPartial({ requester: wallet.publicKey, model: m, request: requestPda(wallet.publicKey, nonce), prompt: null }).rpc(),
    "ModelInactive",
  );
  for (const n of ["modelRegistered", "modelUpdated", "modelDeactivated"]) await feed.waitFor((e) => e.name === n && e.data.model.equals(m));
});

test("operator lifecycle: register, stake, unstake, withdraw after unbonding, deregister; expire", async () => {
  const op = Keypair.generate();
  const sig = await connection.requestAirdrop(op.publicKey, 2 * LAMPORTS_PER_SOL);
  await connection.confirmTransaction({ signature: sig, ...(await connection.getLatestBlockhash()) }, "confirmed");
  const mintAuthority = readKeypair(join(dirname(info.wallet_keypair), "mint-authority.json"));
  const mint = new PublicKey(info.stake_mint);
  const source = await createAssociatedTokenAccount(connection, op, mint, op.publicKey);
  const amount = cfg.params.minStake.muln(5);
  await mintTo(connection, op, mint, source, mintAuthority, BigInt(amount.toString()));
  const p = programFor(connection, op);
  const base = { authority: op.publicKey, config, registry: registryPda(), operator: operatorPda(op.publicKey) };
  const vault = cfg.stakeVault;
  // served_models = 0: staked but never drawn into the other tests' committees.
  await p.methods.registerOperator(new BN(0)).accountsPartial(base).rpc();
  await rejectsWith(p.methods.stake(new BN(0)).accountsPartial({ ...base, stakeMint: mint, source, stakeVault: vault }).rpc(), "ZeroAmount");
  await p.methods.stake(amount).accountsPartial({ ...base, stakeMint: mint, source, stakeVault: vault }).rpc();
  assert.equal((await getAccount(connection, source)).amount, 0n);
  await rejectsWith(p.methods.setServedModels(new BN(1).shln(63)).accountsPartial(base).rpc(), "UnknownModelIndex");
  await p.methods.setServedModels(new BN(0)).accountsPartial(base).rpc();
  await rejectsWith(p.methods.requestUnstake(amount.addn(1)).accountsPartial(base).rpc(), "InsufficientStake");
  await p.methods.requestUnstake(amount).accountsPartial(base).rpc();
  const acct = await p.account.operator.fetch(operatorPda(op.publicKey));
  assert.equal(acct.unbonding.toString(), amount.toString());
  await rejectsWith(p.methods.withdrawStake().accountsPartial({ ...base, stakeMint: mint, destination: source, stakeVault: vault }).rpc(), "UnbondingNotElapsed");
  await rejectsWith(p.methods.deregisterOperator().accountsPartial({ authority: op.publicKey, registry: registryPda(), operator: operatorPda(op.publicKey) }).rpc(), "StakeRemaining");

  // The request submitted at load time: nobody assigned it; expire refunds the whole fee.
  const fee = (await program.account.request.fetch(expRequest)).fee;
  await rejectsWith(expireRequest(program, expRequest).then((b) => b.rpc()), "ExpireTooEarly");
  await waitForSlot(connection, expSubmitSlot + cfg.params.assignWindow.toNumber() + 1);
  try {
    await (await expireRequest(program, expRequest)).rpc();
  } catch (e) {
    assert.equal(explainError(e).name, "RequestNotPending", `not expired by a node either: ${explainError(e).message}`);
  }
  assert.equal(variant((await program.account.request.fetch(expRequest)).status), "expired");
  assert.equal((await connection.getBalance(expRequester.publicKey, "confirmed")) - expBalance, fee.toNumber(), "the whole fee is refunded");
  const expired = await feed.waitFor((e) => e.name === "requestExpired" && e.data.request.equals(expRequest), 30_000);
  assert.equal(expired.data.refunded.toString(), fee.toString());
  await rejectsWith(assignCommittee(program, expRequest).rpc(), "RequestNotPending");
  assert.equal(variant((await program.account.request.fetch(expRequest)).callbackStatus), "pending");
  await program.methods.expireCallback().accountsPartial({ config, request: expRequest }).rpc();
  assert.equal(variant((await program.account.request.fetch(expRequest)).callbackStatus), "failed");
  await rejectsWith(program.methods.expireCallback().accountsPartial({ config, request: expRequest }).rpc(), "CallbackNotPending");
  const cbe = await feed.waitFor((e) => e.name === "callbackExpired" && e.data.request.equals(expRequest));
  assert.equal(variant(cbe.data.requestStatus), "expired");
  await closeRequest(programFor(connection, expRequester), expRequest, expRequester.publicKey).rpc();

  await waitForSlot(connection, acct.releaseSlot.toNumber());
  await p.methods.withdrawStake().accountsPartial({ ...base, stakeMint: mint, destination: source, stakeVault: vault }).rpc();
  assert.equal((await getAccount(connection, source)).amount, BigInt(amount.toString()));
  await p.methods.deregisterOperator().accountsPartial({ authority: op.publicKey, registry: registryPda(), operator: operatorPda(op.publicKey) }).rpc();
  assert.equal(await p.account.operator.fetchNullable(operatorPda(op.publicKey)), null);
  for (const n of ["operatorRegistered", "operatorStaked", "servedModelsSet", "unstakeRequested", "stakeWithdrawn", "operatorDeregistered"]) {
    await feed.waitFor((e) => e.name === n && e.data.authority.equals(op.publicKey));
  }
});
