//! The request's round as a timeline: submitted → committee assigned → commits → reveals → finalized /
//! no consensus / expired, derived from the live Request account (its `committee` round: slots and member states).
import type { RequestAccount } from "../hooks";
import { short } from "../lib/format";
import { toHex, variant } from "@verity/sdk";

interface Step {
  key: string;
  label: string;
  done: boolean;
  detail: string;
}

export function timelineSteps(r: RequestAccount, slot: number): Step[] {
  const status = variant(r.status);
  const k = r.committeeSize;
  const c = r.committee;
  const assigned = status !== "pending" && status !== "expired";
  const commits = c.members.filter((m) => variant(m.state) !== "assigned");
  const reveals = c.members.filter((m) => variant(m.state) === "revealed");
  const terminal = ["finalized", "noConsensus", "expired", "disputed", "escalated"].includes(status);
  const left = (deadline: number) => (slot && deadline > slot ? ` (${deadline - slot} slots left)` : "");
  const steps: Step[] = [
    { key: "submitted", label: "Submitted", done: true, detail: `slot ${r.submitSlot}` },
    {
      key: "assigned",
      label: "Committee assigned",
      done: assigned,
      detail: assigned ? `slot ${c.assignSlot}: ${c.members.map((m) => short(m.operator)).join(", ")}` : "waiting for a crank (assign_committee)",
    },
    {
      key: "commits",
      label: `Commits ${commits.length}/${k}`,
      done: assigned && (commits.length === k || ["revealing", ...(terminal ? [status] : [])].includes(status)),
      detail: assigned ? `deadline slot ${c.commitDeadline}${status === "committing" ? left(Number(c.commitDeadline)) : ""}` : "",
    },
    {
      key: "reveals",
      label: `Reveals ${reveals.length}/${commits.length || k}`,
      done: terminal && status !== "expired",
      detail: Number(c.revealDeadline) > 0 ? `deadline slot ${c.revealDeadline}${status === "revealing" ? left(Number(c.revealDeadline)) : ""}` : "",
    },
  ];
  const finalLabel: Record<string, string> = {
    finalized: "Finalized",
    noConsensus: "No consensus (refunded)",
    expired: "Expired (refunded)",
    disputed: "Disputed (2k+1 re-run, rewards locked)",
    escalated: "Escalated (no majority: 2k+1 round next)",
  };
  const finalDetail =
    status === "expired" ? "fee returned to the requester"
    : status === "escalated" ? "no strict majority; open_dispute starts the escalation round (else refunded after the assign window)"
    : `slot ${r.finalizedSlot}, winning hash ${toHex(r.winningHash).slice(0, 16)}…${r.round > 0 && status !== "disputed" ? " (after a dispute round)" : ""}`;
  steps.push({
    key: "final",
    label: finalLabel[status] ?? "Finalized",
    done: terminal,
    detail: terminal ? finalDetail : "",
  });
  return steps;
}

export function Timeline({ request, slot }: { request: RequestAccount; slot: number }) {
  const steps = timelineSteps(request, slot);
  return (
    <ol className="timeline" data-testid="timeline">
      {steps.map((s) => (
        <li key={s.key} className={s.done ? "done" : "todo"} data-testid={`step-${s.key}`} data-done={s.done}>
          <strong>{s.label}</strong>
          <span>{s.detail}</span>
        </li>
      ))}
    </ol>
  );
}

export function MembersTable({ request }: { request: RequestAccount }) {
  return (
    <table data-testid="members">
      <thead>
        <tr><th>member</th><th>state</th><th>commit slot</th><th>reveal slot</th><th>output hash</th><th>tokens in/out</th><th>outcome</th><th>reward</th><th>slashed</th></tr>
      </thead>
      <tbody>
        {request.committee.members.map((m) => (
          <tr key={m.operator.toBase58()}>
            <td title={m.operator.toBase58()}>{short(m.operator)}</td>
            <td>{variant(m.state)}</td>
            <td>{Number(m.commitSlot) || "—"}</td>
            <td>{Number(m.revealSlot) || "—"}</td>
            <td><code>{variant(m.state) === "revealed" ? toHex(m.outputHash).slice(0, 12) + "…" : "—"}</code></td>
            <td>{m.tokensIn}/{m.tokensOut}</td>
            <td>{variant(m.outcome)}</td>
            <td>{m.reward.toString()}{m.claimed ? " (claimed)" : ""}</td>
            <td>{m.slashed.toString()}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
