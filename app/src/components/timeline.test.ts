//! The timeline derived from a Request account at each stage of its round.
import { describe, expect, it } from "vitest";
import BN from "bn.js";
import { Keypair } from "@solana/web3.js";
import { timelineSteps } from "./Timeline";
import type { RequestAccount } from "../hooks";

const member = (state: string, outcome = "pending") => ({
  operator: Keypair.generate().publicKey, state: { [state]: {} }, commitment: [], outputHash: Array(32).fill(1),
  commitSlot: new BN(state === "assigned" ? 0 : 20), revealSlot: new BN(state === "revealed" ? 30 : 0),
  tokensIn: 1, tokensOut: 2, outcome: { [outcome]: {} }, reward: new BN(0), slashShare: new BN(0), slashed: new BN(0), claimed: false,
});
const req = (status: string, members: ReturnType<typeof member>[], extra: Record<string, unknown> = {}, committee: Record<string, unknown> = {}) =>
  ({
    status: { [status]: {} }, committeeSize: 3, submitSlot: new BN(10), finalizedSlot: new BN(0), winningHash: Array(32).fill(0xab),
    committee: { members, assignSlot: new BN(12), commitDeadline: new BN(162), revealDeadline: new BN(0), ...committee },
    ...extra,
  }) as unknown as RequestAccount;
const done = (r: RequestAccount, slot = 50) => Object.fromEntries(timelineSteps(r, slot).map((s) => [s.key, s.done]));

describe("timelineSteps", () => {
  it("pending: only submitted", () => {
    expect(done(req("pending", []))).toEqual({ submitted: true, assigned: false, commits: false, reveals: false, final: false });
    expect(timelineSteps(req("pending", []), 11)[1].detail).toMatch(/waiting for a crank/);
  });
  it("committing: assigned, commits counted, deadline countdown", () => {
    const r = req("committing", [member("committed"), member("assigned"), member("assigned")]);
    expect(done(r)).toEqual({ submitted: true, assigned: true, commits: false, reveals: false, final: false });
    const steps = timelineSteps(r, 100);
    expect(steps[2].label).toBe("Commits 1/3");
    expect(steps[2].detail).toMatch(/62 slots left/);
  });
  it("revealing: all committed, reveals counted", () => {
    const r = req("revealing", [member("revealed"), member("committed"), member("committed")], {}, { revealDeadline: new BN(200) });
    expect(done(r)).toEqual({ submitted: true, assigned: true, commits: true, reveals: false, final: false });
    expect(timelineSteps(r, 60)[3].label).toBe("Reveals 1/3");
  });
  it("finalized / expired: terminal step named after the outcome", () => {
    const f = req("finalized", [member("revealed", "agreed"), member("revealed", "agreed"), member("revealed", "minority")], { finalizedSlot: new BN(40) }, { revealDeadline: new BN(200) });
    expect(done(f)).toEqual({ submitted: true, assigned: true, commits: true, reveals: true, final: true });
    expect(timelineSteps(f, 60)[4].detail).toMatch(/slot 40, winning hash abab/);
    const e = req("expired", []);
    expect(timelineSteps(e, 500)[4].label).toBe("Expired (refunded)");
    expect(done(e).assigned).toBe(false);
  });
  it("escalated / disputed: the second round is named", () => {
    const ms = [member("revealed", "noReveal"), member("revealed", "agreed"), member("committed", "noReveal")];
    const esc = req("escalated", ms, { finalizedSlot: new BN(40), round: 0 }, { revealDeadline: new BN(200) });
    expect(timelineSteps(esc, 60)[4].label).toMatch(/^Escalated/);
    expect(timelineSteps(esc, 60)[4].detail).toMatch(/open_dispute/);
    const dis = req("disputed", ms, { finalizedSlot: new BN(40), round: 1 }, { revealDeadline: new BN(200) });
    expect(timelineSteps(dis, 60)[4].label).toMatch(/^Disputed/);
    const after = req("finalized", ms, { finalizedSlot: new BN(90), round: 1 }, { revealDeadline: new BN(200) });
    expect(timelineSteps(after, 100)[4].detail).toMatch(/after a dispute round/);
  });
});
