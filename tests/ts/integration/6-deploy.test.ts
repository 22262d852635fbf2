//! migrations/deploy.ts against the localnet: an existing config is detected and left alone, a missing model
//! is registered, a rerun is a no-op, and bad input / an undeployed program fail clearly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PublicKey } from "@solana/web3.js";
import deploy from "../../../migrations/deploy";
import { modelPda, toHex, VerityAnchorProvider } from "@verity/sdk";
import { connect, KeypairWallet, loadInfo, programFor, readKeypair } from "../lib/localnet";

const info = loadInfo();
const connection = connect(info);
const provider = new VerityAnchorProvider(connection, new KeypairWallet(readKeypair(info.authority_keypair)));
const program = programFor(connection, readKeypair(info.wallet_keypair));

test("deploy is idempotent: keeps the config, registers a missing model once", async () => {
  const modelId = 900_000 + Math.floor(Math.random() * 99_999);
  const profileHash = "ab".repeat(32);
  const lines: string[] = [];
  const out = await deploy(provider, { profileHash, modelId, modelName: "deploy-test", log: (s) => lines.push(s) });
  assert.match(lines[0], /config .* exists .*left as is/);
  assert.match(lines[1], new RegExp(`registered model ${modelId} at ${modelPda(modelId).toBase58()}`));
  const m = await program.account.model.fetch(out.model);
  assert.equal(m.name, "deploy-test");
  assert.equal(toHex(m.profileHash), profileHash);
  assert.equal(m.paramCount.toNumber(), 0, "a named model without --param-count: unknown");
  assert.equal(out.stakeMint.toBase58(), info.stake_mint);
  const again: string[] = [];
  await deploy(provider, { profileHash, modelId, log: (s) => again.push(s) });
  assert.match(again[1], /exists .*left as is/);
});

test("deploy refuses a bad profile hash and a cluster without the program", async () => {
  await assert.rejects(deploy(provider, { profileHash: "xyz", log: () => {} }), /64 lower-case hex/);
  const bogus = new PublicKey(new Uint8Array(32).fill(5)).toBase58();
  await assert.rejects(deploy(provider, { profileHash: "00".repeat(32), programId: bogus, log: () => {} }), /is not deployed/);
});
