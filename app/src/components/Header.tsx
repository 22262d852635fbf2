//! Header: navigation, cluster picker (localnet / devnet / mainnet-beta / custom RPC), wallet button, the
//! connected wallet's balance and, on localnet/devnet, an airdrop button (how the burner wallet gets SOL).
import { useEffect, useState } from "react";
import { LAMPORTS_PER_SOL } from "@solana/web3.js";
import { WalletMultiButton } from "@solana/wallet-adapter-react-ui";
import { useConnection } from "@solana/wallet-adapter-react";
import { useVerity } from "../context";
import { PRESETS, saveCluster } from "../lib/cluster";
import { sol } from "../lib/format";
import { useRoute } from "../router";

const LINKS: [string, string][] = [
  ["submit", "Submit"],
  ["requests", "Requests"],
  ["operators", "Leaderboard"],
  ["models", "Models"],
  ["operator", "Operator"],
];

function ClusterPicker() {
  const { cluster, health } = useVerity();
  const [custom, setCustom] = useState(cluster.name === "custom" ? cluster.rpc : "");
  const pick = (rpc: string, ws?: string) => {
    saveCluster(rpc, ws);
    location.search = "";
    location.reload();
  };
  return (
    <span className="cluster">
      <select
        data-testid="cluster-select"
        value={cluster.name}
        onChange={(e) => e.target.value !== "custom" && pick(PRESETS[e.target.value])}
      >
        {Object.keys(PRESETS).map((n) => (
          <option key={n} value={n}>{n}</option>
        ))}
        <option value="custom">custom</option>
      </select>
      {cluster.name === "custom" && (
        <input className="rpc" value={custom} onChange={(e) => setCustom(e.target.value)} onBlur={() => custom && custom !== cluster.rpc && pick(custom)} />
      )}
      <span className={health?.ok ? "dot ok" : "dot bad"} title={health?.ok ? `${health.cluster}, slot ${health.slot}` : "not ready"} />
    </span>
  );
}

function Balance() {
  const { connection } = useConnection();
  const { wallet, cluster, health, run, slot } = useVerity();
  const [lamports, setLamports] = useState<number | null>(null);
  useEffect(() => {
    if (!wallet) return setLamports(null);
    connection.getBalance(wallet).then(setLamports).catch(() => setLamports(null));
  }, [connection, wallet, slot]);
  if (!wallet) return null;
  const canAirdrop = health && "cluster" in health && (health.cluster === "localnet" || health.cluster === "devnet");
  const airdrop = () =>
    run("Airdrop 2 SOL", async () => {
      const sig = await connection.requestAirdrop(wallet, 2 * LAMPORTS_PER_SOL);
      const bh = await connection.getLatestBlockhash();
      await connection.confirmTransaction({ signature: sig, ...bh }, "confirmed");
      setLamports(await connection.getBalance(wallet));
      return sig;
    });
  return (
    <span className="balance" data-testid="balance" data-lamports={lamports ?? ""}>
      {lamports === null ? "…" : sol(lamports, 4)}
      {canAirdrop && (
        <button data-testid="airdrop" onClick={airdrop} title={`requestAirdrop on ${cluster.rpc}`}>Airdrop</button>
      )}
    </span>
  );
}

export function Header() {
  const [page = "submit"] = useRoute();
  return (
    <header>
      <a className="brand" href="#/submit">Verity</a>
      <nav>
        {LINKS.map(([p, label]) => (
          <a key={p} href={`#/${p}`} className={page === p || (p === "requests" && page === "request") ? "active" : ""}>{label}</a>
        ))}
      </nav>
      <span className="spacer" />
      <ClusterPicker />
      <Balance />
      <WalletMultiButton />
    </header>
  );
}
