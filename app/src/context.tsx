//! App-wide state: the chosen cluster and its health, the Anchor `Program<Verity>` bound to the connected wallet
//! (read-only when none), the current slot, the stake token's decimals, and `run()` which sends a transaction
//! and reports success or an explained error.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { type Program } from "@coral-xyz/anchor";
import { useAnchorWallet, useConnection } from "@solana/wallet-adapter-react";
import type { PublicKey } from "@solana/web3.js";
import type { ClusterConfig } from "./lib/cluster";
import { checkCluster, type ClusterHealth, configPda, readOnlyProvider, VerityAnchorProvider, verityProgram, type Verity, explainError, type ExplainedError } from "@verity/sdk";

export interface Notice {
  ok: boolean;
  text: string;
  detail?: ExplainedError;
  signature?: string;
}

interface VerityState {
  cluster: ClusterConfig;
  health: ClusterHealth | null;
  program: Program<Verity>;
  wallet: PublicKey | null;
  slot: number;
  stakeDecimals: number;
  notice: Notice | null;
  setNotice: (n: Notice | null) => void;
  /** Runs `fn` (which sends a transaction); shows the outcome. Returns its result or null on failure. */
  run: <T>(label: string, fn: () => Promise<T>) => Promise<T | null>;
  refreshHealth: () => void;
}

const Ctx = createContext<VerityState | null>(null);

export function useVerity(): VerityState {
  const v = useContext(Ctx);
  if (!v) throw new Error("useVerity outside VerityProvider");
  return v;
}

export function VerityProvider({ cluster, children }: { cluster: ClusterConfig; children: ReactNode }) {
  const { connection } = useConnection();
  const anchorWallet = useAnchorWallet();
  const [health, setHealth] = useState<ClusterHealth | null>(null);
  const [slot, setSlot] = useState(0);
  const [stakeDecimals, setStakeDecimals] = useState(0);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [tick, setTick] = useState(0);

  const program = useMemo(() => {
    const provider = anchorWallet
      ? new VerityAnchorProvider(connection, anchorWallet)
      : readOnlyProvider(connection);
    return verityProgram(provider, cluster.programId);
  }, [connection, anchorWallet, cluster.programId]);

  useEffect(() => {
    let live = true;
    checkCluster(connection, cluster.programId).then(async (h) => {
      if (!live) return;
      setHealth(h);
      if (h.ok) {
        const cfg = await program.account.config.fetch(configPda(cluster.programId));
        const supply = await connection.getTokenSupply(cfg.stakeMint).catch(() => null);
        if (live && supply) setStakeDecimals(supply.value.decimals);
      }
    });
    return () => {
      live = false;
    };
  }, [connection, cluster.programId, program, tick]);

  useEffect(() => {
    const t = setInterval(() => connection.getSlot().then(setSlot).catch(() => {}), 2000);
    connection.getSlot().then(setSlot).catch(() => {});
    return () => clearInterval(t);
  }, [connection]);

  const run = useCallback(async <T,>(label: string, fn: () => Promise<T>): Promise<T | null> => {
    setNotice({ ok: true, text: `${label}: sending…` });
    try {
      const r = await fn();
      setNotice({ ok: true, text: `${label}: confirmed`, signature: typeof r === "string" ? r : undefined });
      return r;
    } catch (e) {
      console.error(label, e);
      const detail = explainError(e);
      setNotice({ ok: false, text: `${label} failed. ${detail.message}`, detail });
      return null;
    }
  }, []);

  const value: VerityState = {
    cluster,
    health,
    program,
    wallet: anchorWallet?.publicKey ?? null,
    slot,
    stakeDecimals,
    notice,
    setNotice,
    run,
    refreshHealth: () => setTick((t) => t + 1),
  };
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}
