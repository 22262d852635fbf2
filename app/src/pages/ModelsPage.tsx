//! Models registry: every Model account with its price (per 1k tokens and per token), limits, parameter count, royalty,
//! reproducibility profile hash and usage.
import { useAll } from "../hooks";
import { short, sol } from "../lib/format";
import { formatSi, pricePer1k, toHex } from "@verity/sdk";

export function ModelsPage() {
  const { items, error } = useAll("model");
  const rows = [...(items ?? [])].sort((a, b) => a.account.index - b.account.index);
  return (
    <section>
      <h1>Models registry</h1>
      {error && <div className="banner error">{error}</div>}
      {items === null ? <p>Loading…</p> : rows.length === 0 ? <p className="muted">No models registered.</p> : (
        <table data-testid="models">
          <thead>
            <tr><th>index</th><th>id</th><th>name</th><th>price / 1k tokens</th><th>price / token</th><th>max input</th><th>max output</th><th>params</th><th>royalty</th><th>requests</th><th>profile hash</th><th>owner</th><th>active</th></tr>
          </thead>
          <tbody>
            {rows.map(({ publicKey, account: m }) => (
              <tr key={publicKey.toBase58()} data-testid="model-row">
                <td>{m.index}</td>
                <td>{m.modelId.toString()}</td>
                <td>{m.name}</td>
                <td data-testid="model-price-1k">{sol(pricePer1k(m.pricePerToken), 9)}</td>
                <td>{sol(m.pricePerToken, 9)}</td>
                <td>{m.maxInputBytes} B</td>
                <td>{m.maxOutputTokens} tokens</td>
                <td title={m.paramCount.toString()}>{m.paramCount.isZero() ? "—" : formatSi(m.paramCount)}</td>
                <td>{(m.royaltyBps / 100).toFixed(2)}%</td>
                <td>{m.requestCount.toString()}</td>
                <td><code title={toHex(m.profileHash)}>{toHex(m.profileHash).slice(0, 16)}…</code></td>
                <td title={m.owner.toBase58()}>{short(m.owner)}</td>
                <td>{m.active ? "yes" : "no"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
