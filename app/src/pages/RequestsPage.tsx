//! Recent requests (mine first when a wallet is connected), newest first, linking to each live timeline.
import { useState } from "react";
import { useVerity } from "../context";
import { useAll } from "../hooks";
import { short, sol } from "../lib/format";
import { variant } from "@verity/sdk";

export function RequestsPage() {
  const { wallet } = useVerity();
  const [mineOnly, setMineOnly] = useState(true);
  const { items, error } = useAll("request");
  const rows = (items ?? [])
    .filter((r) => !mineOnly || !wallet || r.account.requester.equals(wallet))
    .sort((a, b) => Number(b.account.submitSlot) - Number(a.account.submitSlot))
    .slice(0, 100);
  return (
    <section>
      <h1>Requests</h1>
      {wallet && <label className="inline"><input type="checkbox" checked={mineOnly} onChange={(e) => setMineOnly(e.target.checked)} /> only mine</label>}
      {error && <div className="banner error">{error}</div>}
      {items === null ? <p>Loading…</p> : rows.length === 0 ? <p className="muted">No requests.</p> : (
        <table>
          <thead><tr><th>request</th><th>requester</th><th>status</th><th>submit slot</th><th>fee</th><th>prompt</th></tr></thead>
          <tbody>
            {rows.map(({ publicKey, account: r }) => (
              <tr key={publicKey.toBase58()}>
                <td><a href={`#/request/${publicKey.toBase58()}`}>{short(publicKey, 6)}</a></td>
                <td>{short(r.requester)}</td>
                <td>{variant(r.status)}</td>
                <td>{r.submitSlot.toString()}</td>
                <td>{sol(r.fee, 9)}</td>
                <td className="clip">{new TextDecoder().decode(Uint8Array.from(r.prompt)).slice(0, 60)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
