//! Every account type of the IDL decoded from the running localnet and cross-checked with localnet.json and
//! the SPL token balances (vault = Σ stake + Σ unbonding).
import { test } from "node:test";
import assert from "node:assert/strict";
import { PublicKey } from "@solana/web3.js";
import { getAccount } from "@solana/spl-token";
import { configPda, modelPda, operatorPda, PROGRAM_ID, registryPda, stakeVaultPda, toHex, checkCluster } from "@verity/sdk";
import { connect, loadInfo, programFor, readKeypair } from "../lib/localnet";

const info = loadInfo();
const connection = connect(info);
const program = programFor(connection, readKeypair(info.wallet_keypair));

test("the cluster check sees the program and its config (as the app does)", async () => {
  const h = await checkCluster(connection, PROGRAM_ID);
  assert.equal(h.ok, true, JSON.stringify(h));
  assert.equal(h.ok && h.cluster, "localnet");
  const wrong = await checkCluster(connection, new PublicKey("Stake11111111111111111111111111111111111111"));
  assert.equal(wrong.ok, false);
});

test("Config decodes and matches localnet.json", async () => {
  assert.equal(info.program_id, PROGRAM_ID.toBase58());
  assert.equal(info.config, configPda().toBase58());
  const c = await program.account.config.fetch(configPda());
  assert.equal(c.stakeMint.toBase58(), info.stake_mint);
  assert.equal(c.stakeVault.toBase58(), stakeVaultPda().toBase58());
  assert.equal(c.treasury.toBase58(), info.treasury);
  assert.equal(c.treasuryStake.toBase58(), info.treasury_stake);
  assert.equal(c.authority.toBase58(), readKeypair(info.authority_keypair).publicKey.toBase58());
  assert.equal(c.params.committeeSize, info.committee_size);
  assert.equal(c.params.commitWindow.toNumber(), info.commit_window);
  assert.equal(c.params.revealWindow.toNumber(), info.reveal_window);
  assert.ok(c.modelCount >= 1);
  assert.equal(typeof c.paused, "boolean");
});

test("Model decodes: the bootstrapped model with its profile hash", async () => {
  const addr = modelPda(info.model.id);
  assert.equal(addr.toBase58(), info.model.address);
  const m = await program.account.model.fetch(addr);
  assert.equal(m.name, info.model.name);
  assert.equal(m.index, info.model.index);
  assert.equal(m.modelId.toNumber(), info.model.id);
  assert.equal(toHex(m.profileHash), info.model.profile_hash);
  assert.ok(m.active);
  assert.ok(m.pricePerToken.gtn(0));
  const all = await program.account.model.all();
  assert.ok(all.some((x) => x.publicKey.equals(addr)));
});

test("OperatorRegistry and Operator accounts decode; the vault holds exactly all stake", async () => {
  const reg = await program.account.operatorRegistry.fetch(registryPda());
  assert.equal(registryPda().toBase58(), info.registry);
  for (const o of info.operators) {
    const op = await program.account.operator.fetch(operatorPda(new PublicKey(o.authority)));
    assert.equal(operatorPda(new PublicKey(o.authority)).toBase58(), o.operator);
    assert.equal(op.authority.toBase58(), o.authority);
    assert.ok(op.stake.gtn(0), "bootstrapped operators are staked");
    assert.equal(((BigInt(op.servedModels.toString()) >> BigInt(info.model.index)) & 1n), 1n);
    const entry = reg.entries.find((e) => e.authority.toBase58() === o.authority);
    assert.ok(entry, "operator is in the registry");
    assert.equal(entry!.stake.toString(), op.stake.toString());
    const tokenAcct = await getAccount(connection, new PublicKey(o.stake_account));
    assert.equal(tokenAcct.mint.toBase58(), info.stake_mint);
  }
  const ops = await program.account.operator.all();
  const sum = ops.reduce((n, o) => n + BigInt(o.account.stake.toString()) + BigInt(o.account.unbonding.toString()), 0n);
  const vault = await getAccount(connection, new PublicKey(info.stake_vault));
  assert.equal(vault.amount, sum, "vault balance == Σ stake + Σ unbonding");
});

test("Request, Output and Dispute decode (whatever exists now) and a missing account reads as null", async () => {
  const reqs = await program.account.request.all();
  for (const r of reqs) assert.ok(r.account.committeeSize >= 1);
  const outs = await program.account.output.all();
  for (const o of outs) assert.ok(o.account.capacity >= 1);
  // Disputes exist only while someone challenges a result (not played by this suite): the decoder must still
  // read every account the program owns with the Dispute discriminator.
  const disputes = await program.account.dispute.all();
  for (const d of disputes) assert.ok(d.account.request instanceof PublicKey);
  assert.equal(await program.account.request.fetchNullable(PublicKey.unique()), null);
  assert.equal(await program.account.dispute.fetchNullable(PublicKey.unique()), null);
  // Every account the program owns is one of the IDL's account types.
  const owned = await connection.getProgramAccounts(program.programId, { dataSlice: { offset: 0, length: 8 } });
  const discs = program.idl.accounts!.map((a) => Buffer.from(a.discriminator).toString("hex"));
  for (const a of owned) assert.ok(discs.includes(Buffer.from(a.account.data).toString("hex")), `${a.pubkey.toBase58()} has an unknown discriminator`);
});
