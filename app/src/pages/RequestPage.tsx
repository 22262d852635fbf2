//! One request, live: its sampling (temperature, top-p, seed), status timeline (accountSubscribe), members, event
//! feed (logsSubscribe), the output with a client-side check against the winning hash, the compute receipt
//! (tokens, price per 1k tokens, fee, ≈FLOPs), and the crank / claim / close buttons.
import { useMemo } from "react";
import { PublicKey } from "@solana/web3.js";
import { useVerity } from "../context";
import { useLiveAccount, type DisputeAccount, type RequestAccount } from "../hooks";
import { Timeline, MembersTable } from "../components/Timeline";
import { EventFeed } from "../components/EventFeed";
import { PROMPT_UNAVAILABLE, disputePda, formatFlops, formatPricePer1k, formatSampling, formatSi, outputHash, outputPda, toHex, variant, assignCommittee, claimReward, closeRequest, expireRequest, finalizeRequest } from "@verity/sdk";
import { short, sol, slotsToSeconds } from "../lib/format";

function Receipt({ r }: { r: RequestAccount }) {
  const c = r.receipt;
  return (
    <table className="receipt" data-testid="receipt">
      <tbody>
        <tr><td>model</td><td title={c.model.toBase58()}>{short(c.model)}</td></tr>
        <tr><td>sampling</td><td>{formatSampling(r.sampling)}</td></tr>
        <tr><td>tokens in / out (median of majority)</td><td data-testid="receipt-tokens">{c.tokensIn} / {c.tokensOut}</td></tr>
        <tr><td>compute (2 × params × tokens)</td><td data-testid="receipt-flops">{c.paramCount.isZero() ? "unknown: the model registered no parameter count" : `${formatFlops(c.approxFlops)} (2 × ${formatSi(c.paramCount)} params × ${c.tokensIn + c.tokensOut} tokens)`}</td></tr>
        <tr><td>latency</td><td>{c.latencySlots.toString()} slots ≈ {slotsToSeconds(c.latencySlots)}</td></tr>
        <tr><td>price</td><td data-testid="receipt-price">{formatPricePer1k(c.pricePerToken)} ({sol(c.pricePerToken, 9)}/token)</td></tr>
        <tr><td>fee paid</td><td data-testid="receipt-fee">{sol(c.feePaid, 9)}</td></tr>
        <tr><td>agreement</td><td data-testid="receipt-agreement">{c.agreementCount}/{c.committeeSize}</td></tr>
        <tr><td>royalty / protocol fee / rewards</td><td>{sol(r.royaltyPaid, 9)} / {sol(r.protocolFeePaid, 9)} / {sol(r.rewardsTotal, 9)}</td></tr>
      </tbody>
    </table>
  );
}

/** The second round (escalation after no majority, or a challenge of the result), when one was opened. */
function DisputePanel({ d }: { d: DisputeAccount }) {
  const verdict = variant(d.verdict);
  return (
    <div data-testid="dispute">
      <h2>{variant(d.kind) === "challenge" ? "Challenge" : "Escalation"} round</h2>
      <table className="receipt">
        <tbody>
          <tr><td>phase / verdict</td><td data-testid="dispute-phase">{variant(d.phase)}{verdict !== "pending" ? ` / ${verdict}` : ""}</td></tr>
          <tr><td>opened by</td><td title={d.opener.toBase58()}>{short(d.opener)} at slot {d.openSlot.toString()}{d.bond.gtn(0) ? `, bond ${sol(d.bond, 9)}` : ""}</td></tr>
          <tr><td>committee (2k+1, fresh operators)</td><td>{d.committee.members.length ? d.committee.members.map((m) => short(m.operator)).join(", ") : `${d.committeeSize} to draw`}</td></tr>
          <tr><td>commits / reveals</td><td>{d.committee.committedCount} / {d.committee.revealedCount}{Number(d.committee.commitDeadline) > 0 ? ` (commit deadline ${d.committee.commitDeadline}, reveal deadline ${d.committee.revealDeadline})` : ""}</td></tr>
          {verdict !== "pending" && <tr><td>winning hash</td><td>{toHex(d.winningHash).slice(0, 16)}…</td></tr>}
        </tbody>
      </table>
    </div>
  );
}

export function RequestPage({ address }: { address: string }) {
  const key = useMemo(() => {
    try {
      return new PublicKey(address);
    } catch {
      return null;
    }
  }, [address]);
  const { program, slot, wallet, run, cluster } = useVerity();
  const request = useLiveAccount("request", key);
  const output = useLiveAccount("output", key ? outputPda(key, cluster.programId) : null);
  const dispute = useLiveAccount("dispute", key ? disputePda(key, cluster.programId) : null);
  const promptAccount = useLiveAccount("prompt", request?.promptAccount ?? null);
  if (!key) return <div className="banner error">"{address}" is not a valid address.</div>;
  if (request === undefined) return <p>Loading {address}…</p>;
  if (request === null) return <div className="banner error" data-testid="not-found">No request account at {address} (never created, or closed).</div>;

  const status = variant(request.status);
  const text = output?.complete ? new TextDecoder().decode(Uint8Array.from(output.data)) : null;
  const verified = output?.complete && toHex(outputHash(request.profileHash, Uint8Array.from(output.data))) === toHex(request.winningHash);
  const member = wallet && request.committee.members.find((m) => m.operator.equals(wallet));
  const prompt = request.prompt.length
    ? new TextDecoder().decode(Uint8Array.from(request.prompt))
    : request.promptAccount
      ? promptAccount
        ? `(${promptAccount.len} B in Prompt account ${short(request.promptAccount, 6)}) ${new TextDecoder().decode(Uint8Array.from(promptAccount.data))}`
        : `(in Prompt account ${short(request.promptAccount, 6)}${promptAccount === null ? ", closed" : ""})`
      : `(fetched by the nodes from ${request.promptUri}, sha256 ${toHex(request.promptHash).slice(0, 16)}…)`;

  return (
    <section>
      <h1>Request <code title={address}>{short(address, 6)}</code> <span className={`status ${status}`} data-testid="status">{status}</span></h1>
      <p className="prompt" data-testid="prompt-text"><strong>Prompt:</strong> {prompt}</p>
      <p className="muted">sampling <span data-testid="sampling">{formatSampling(request.sampling)}</span> · fee {sol(request.fee, 9)} · max tokens {request.maxTokens} · k = {request.committeeSize} · current slot {slot}
        {request.callbackProgram && <> · callback {short(request.callbackProgram)}: <span data-testid="callback-status">{variant(request.callbackStatus)}</span></>}</p>
      <Timeline request={request} slot={slot} />
      <div className="cranks">
        {status === "pending" && <button onClick={() => run("Assign committee", async () => assignCommittee(program, key).rpc())}>Assign committee (crank)</button>}
        {status === "pending" && <button onClick={() => run("Expire", async () => (await expireRequest(program, key)).rpc())}>Expire</button>}
        {(status === "committing" || status === "revealing") && <button onClick={() => run("Finalize", async () => (await finalizeRequest(program, key)).rpc())}>Finalize (crank)</button>}
        {status === "finalized" && member && member.reward.gtn(0) && !member.claimed && <button onClick={() => run("Claim reward", () => claimReward(program, key, member.operator).rpc())}>Claim my reward</button>}
        {wallet && request.requester.equals(wallet) && ["finalized", "noConsensus", "expired"].includes(status) && <button onClick={() => run("Close request", () => closeRequest(program, key, wallet, request.promptAccount).rpc())}>Close (reclaim rent)</button>}
      </div>
      {request.committee.members.length > 0 && <MembersTable request={request} />}
      {dispute && <DisputePanel d={dispute} />}
      {status === "finalized" && (
        <>
          <h2>Output</h2>
          {text !== null ? (
            <div className="output">
              <pre data-testid="output">{text}</pre>
              {text === PROMPT_UNAVAILABLE && <p className="banner error" data-testid="prompt-unavailable">The committee could not verify this request's prompt at {request.promptUri} (unreachable, or other bytes than its hash): it answered the protocol's "prompt unavailable" output.</p>}
              <p data-testid="output-verified" className={verified ? "ok" : "bad"}>
                {verified ? "✓ sha256(profile hash ‖ output) equals the winning hash" : "✗ output does not match the winning hash"}
              </p>
            </div>
          ) : (
            <p className="muted" data-testid="output-pending">Winning hash {toHex(request.winningHash).slice(0, 16)}… — waiting for a majority member to write the output ({output?.data.length ?? 0}/{output?.totalLen ?? "?"} bytes).</p>
          )}
          <h2>Compute receipt</h2>
          <Receipt r={request} />
        </>
      )}
      <EventFeed request={key} />
    </section>
  );
}
