//! Data hooks over the IDL client: lists of program accounts (models, operators, requests), a live account
//! (fetch once, then update on every websocket `accountSubscribe` notification) and an operator's unclaimed
//! rewards (reloaded every few slots and on demand).
import { useCallback, useEffect, useState } from "react";
import type { IdlAccounts } from "@coral-xyz/anchor";
import type { PublicKey } from "@solana/web3.js";
import { useVerity } from "./context";
import { earningsOf, type Earning, type Verity } from "@verity/sdk";

export type ModelAccount = IdlAccounts<Verity>["model"];
export type OperatorAccount = IdlAccounts<Verity>["operator"];
export type RequestAccount = IdlAccounts<Verity>["request"];
export type OutputAccount = IdlAccounts<Verity>["output"];
export type ConfigAccount = IdlAccounts<Verity>["config"];
export type DisputeAccount = IdlAccounts<Verity>["dispute"];
export type PromptAccount = IdlAccounts<Verity>["prompt"];
export interface Listed<T> {
  publicKey: PublicKey;
  account: T;
}

type Lists = { model: ModelAccount; operator: OperatorAccount; request: RequestAccount };

/** `program.account.<name>.all()`, refreshed when `deps` change; `error` holds a load failure. */
export function useAll<K extends keyof Lists>(name: K, deps: unknown[] = []) {
  const { program, health } = useVerity();
  const [items, setItems] = useState<Listed<Lists[K]>[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!health?.ok) return;
    let live = true;
    (program.account[name] as any)
      .all()
      .then((r: Listed<Lists[K]>[]) => live && (setItems(r), setError(null)))
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [program, health?.ok, name, ...deps]);
  return { items, error };
}

type Live = { request: RequestAccount; output: OutputAccount; operator: OperatorAccount; config: ConfigAccount; dispute: DisputeAccount; prompt: PromptAccount };

/** One account, decoded with the IDL coder, kept current through a websocket subscription. `null` = absent. */
export function useLiveAccount<K extends keyof Live>(name: K, address: PublicKey | null) {
  const { program } = useVerity();
  const [value, setValue] = useState<Live[K] | null | undefined>(undefined);
  const key = address?.toBase58();
  useEffect(() => {
    if (!address) return setValue(null);
    let live = true;
    const conn = program.provider.connection;
    (program.account[name] as any).fetchNullable(address).then((v: Live[K] | null) => live && setValue(v));
    const sub = conn.onAccountChange(
      address,
      (info) => {
        if (!live) return;
        try {
          setValue(info.data.length ? program.coder.accounts.decode(name, info.data) : null);
        } catch {
          setValue(null); // closed (zeroed) or reassigned
        }
      },
      { commitment: "confirmed" },
    );
    return () => {
      live = false;
      conn.removeAccountChangeListener(sub);
    };
  }, [program, name, key]);
  return value;
}

/** Slots between reloads of `useEarnings` (every Request and Dispute account is read: ~10 s). */
export const EARNINGS_REFRESH_SLOTS = 25;

/**
 * The unclaimed rewards of `authority` (`earningsOf`): `null` until first loaded (and again when the authority
 * changes), then kept while reloading every `EARNINGS_REFRESH_SLOTS` slots or on `refresh()`; `error` holds a
 * load failure.
 */
export function useEarnings(authority: PublicKey | null) {
  const { program, health, slot } = useVerity();
  const [earnings, setEarnings] = useState<Earning[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const key = authority?.toBase58();
  const bucket = slot > 0 ? Math.floor(slot / EARNINGS_REFRESH_SLOTS) : -1; // -1: the slot is not known yet
  useEffect(() => {
    setEarnings(null);
    setError(null);
  }, [program, key]);
  useEffect(() => {
    if (!health?.ok || !authority || bucket < 0) return;
    let live = true;
    earningsOf(program, authority)
      .then((r) => live && (setEarnings(r), setError(null)))
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [program, health?.ok, key, bucket, tick]);
  const refresh = useCallback(() => setTick((t) => t + 1), []);
  return { earnings, error, refresh };
}
