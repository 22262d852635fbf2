//! Cluster problems (wrong cluster, program missing, RPC down) and the outcome of the last transaction.
import { useVerity } from "../context";

export function Banner() {
  const { health, notice, setNotice, cluster } = useVerity();
  return (
    <>
      {health && !health.ok && (
        <div className="banner error" data-testid="cluster-problem">
          {health.problem} <small>RPC: {cluster.rpc}</small>
        </div>
      )}
      {notice && (
        <div className={`banner ${notice.ok ? "info" : "error"}`} data-testid={notice.ok ? "notice" : "error"}>
          <span>{notice.text}</span>
          {notice.signature && <code className="sig"> {notice.signature.slice(0, 16)}…</code>}
          {notice.detail?.logs && notice.detail.logs.length > 0 && (
            <details>
              <summary>program logs</summary>
              <pre>{notice.detail.logs.join("\n")}</pre>
            </details>
          )}
          <button className="close" onClick={() => setNotice(null)}>×</button>
        </div>
      )}
    </>
  );
}
