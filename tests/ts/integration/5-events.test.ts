//! Every event type of the IDL, decoded from the localnet's transaction history (bootstrap + the tests
//! before this file): each appears, and each decodes with exactly the IDL's fields.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PROGRAM_ID } from "../../../app/src/lib/protocol";
import { connect, loadInfo, programFor, readKeypair } from "../lib/localnet";
import { historyEvents } from "../lib/events";

const info = loadInfo();
const connection = connect(info);
const program = programFor(connection, readKeypair(info.wallet_keypair));

test("all IDL events occur in the history and decode field by field", async () => {
  const events = await historyEvents(connection, program, PROGRAM_ID);
  const seen = new Set(events.map((e) => e.name));
  const expected = program.idl.events.map((e) => e.name);
  assert.equal(expected.length, 22);
  const missing = expected.filter((n) => !seen.has(n));
  assert.deepEqual(missing, [], `events never seen: ${missing.join(", ")} (run the other integration files first)`);
  for (const name of expected) {
    const def = program.idl.types!.find((t) => t.name === name)!;
    const fields = (def.type as { fields: { name: string }[] }).fields.map((f) => f.name).sort();
    const e = events.find((x) => x.name === name)!;
    assert.deepEqual(Object.keys(e.data).sort(), fields, `${name} fields`);
    for (const f of fields) assert.notEqual(e.data[f], undefined, `${name}.${f}`);
  }
  const init = events.find((e) => e.name === "configInitialized")!;
  assert.equal(init.data.stakeMint.toBase58(), info.stake_mint);
  assert.equal(init.data.params.committeeSize, info.committee_size);
});
