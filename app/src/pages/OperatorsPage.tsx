//! Operators leaderboard: stake, agreement rate, mean latency, work served (tokens, ≈FLOPs), earnings, slashes — from
//! every Operator account.
import { formatFlops, formatSi } from "@verity/sdk";
import { useVerity } from "../context";
import { useAll } from "../hooks";
import { pct, short, slotsToSeconds, sol, tokens } from "../lib/format";

export function OperatorsPage() {
  const { stakeDecimals } = useVerity();
  const { items, error } = useAll("operator");
  const rows = [...(items ?? [])].sort((a, b) => (b.account.stake.gt(a.account.stake) ? 1 : b.account.stake.lt(a.account.stake) ? -1 : 0));
  return (
    <section>
      <h1>Operators leaderboard</h1>
      {error && <div className="banner error">{error}</div>}
      {items === null ? <p>Loading…</p> : rows.length === 0 ? <p className="muted">No operators registered.</p> : (
        <table data-testid="leaderboard">
          <thead>
            <tr><th>#</th><th>operator</th><th>stake</th><th>unbonding</th><th>assigned</th><th>agreement</th><th>minority / missed</th><th>mean latency</th><th>served (tokens, 2 × params × tokens)</th><th>earned</th><th>slashed</th></tr>
          </thead>
          <tbody>
            {rows.map(({ account: o }, i) => {
              const revealed = o.agreed.add(o.minority);
              const latency = revealed.isZero() ? null : o.latencySlotsSum.div(revealed);
              return (
                <tr key={o.authority.toBase58()} data-testid="operator-row">
                  <td>{i + 1}</td>
                  <td title={o.authority.toBase58()}><a href={`#/operator/${o.authority.toBase58()}`}>{short(o.authority, 6)}</a></td>
                  <td>{tokens(o.stake, stakeDecimals)}</td>
                  <td>{o.unbonding.isZero() ? "—" : tokens(o.unbonding, stakeDecimals)}</td>
                  <td>{o.assigned.toString()}</td>
                  <td>{pct(o.agreed, o.assigned)}</td>
                  <td>{o.minority.toString()} / {o.missed.toString()}</td>
                  <td>{latency === null ? "—" : `${latency} slots ≈ ${slotsToSeconds(latency)}`}</td>
                  <td data-testid="operator-served">{o.tokensServed.isZero() ? "—" : `${formatSi(o.tokensServed)} tokens, ${o.flopsServed.isZero() ? "FLOPs unknown" : formatFlops(o.flopsServed)}`}</td>
                  <td>{sol(o.earnedTotal, 6)}</td>
                  <td>{o.slashedTotal.isZero() ? "0" : tokens(o.slashedTotal, stakeDecimals)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
