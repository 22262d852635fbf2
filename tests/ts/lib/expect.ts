//! Assertion helpers: a transaction must fail with a given Verity (or Anchor) error name — decoded by the
//! app's own error explainer, so these tests also check what users would be told.
import assert from "node:assert/strict";
import { explainError } from "@verity/sdk";

export async function rejectsWith(p: Promise<unknown>, name: string): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${name}, but the transaction succeeded`);
  const x = explainError(err);
  assert.equal(x.name, name, `expected ${name}, got ${x.kind}: ${x.message}\n${(x.logs ?? []).join("\n")}`);
  assert.match(x.message, new RegExp(name));
}
