//! Operator view for the connected wallet: register (served models), stake from a stake-token account,
//! request unstake, withdraw after unbonding (creating the associated token account if needed), set served models;
//! and its earnings: the unclaimed rewards (ready, or locked until their unlock slot) with "Claim all". At
//! `#/operator/<authority>` the earnings of another operator, which any connected wallet may claim for it (the
//! rewards always go to the operator's authority).
import { useEffect, useState } from "react";
import BN from "bn.js";
import { PublicKey, SystemProgram, TransactionInstruction } from "@solana/web3.js";
import { useConnection } from "@solana/wallet-adapter-react";
import { useVerity } from "../context";
import { useAll, useEarnings, useLiveAccount, type ConfigAccount } from "../hooks";
import { useRoute } from "../router";
import { ASSOCIATED_TOKEN_PROGRAM_ID, associatedTokenAddress, claimableAt, claimEarnings, configPda, earningsTotal, formatFlops, operatorPda, registryPda, servedModelsArg, servesModel, TOKEN_PROGRAM_ID, toggleServedModel } from "@verity/sdk";
import { parseTokens, pct, short, sol, tokens } from "../lib/format";

interface TokenAcct { address: PublicKey; amount: bigint }

function createAtaIdempotent(payer: PublicKey, owner: PublicKey, mint: PublicKey): TransactionInstruction {
  return new TransactionInstruction({
    programId: ASSOCIATED_TOKEN_PROGRAM_ID,
    keys: [
      { pubkey: payer, isSigner: true, isWritable: true },
      { pubkey: associatedTokenAddress(owner, mint), isSigner: false, isWritable: true },
      { pubkey: owner, isSigner: false, isWritable: false },
      { pubkey: mint, isSigner: false, isWritable: false },
      { pubkey: SystemProgram.programId, isSigner: false, isWritable: false },
      { pubkey: TOKEN_PROGRAM_ID, isSigner: false, isWritable: false },
    ],
    data: Buffer.from([1]),
  });
}

function parseKey(text: string | undefined): PublicKey | null {
  try {
    return text ? new PublicKey(text) : null;
  } catch {
    return null;
  }
}

/** The unclaimed rewards of `authority` and "Claim all" (sent and paid by the connected wallet, whoever it is). */
function Earnings({ authority }: { authority: PublicKey }) {
  const { program, wallet, run, slot, setNotice } = useVerity();
  const { earnings, error, refresh } = useEarnings(authority);
  const [busy, setBusy] = useState(false);
  const ready = claimableAt(earnings ?? [], slot);
  const claimAll = async () => {
    setBusy(true);
    const r = await run("Claim all", () => claimEarnings(program, authority));
    setBusy(false);
    refresh();
    if (r) {
      const n = r.signatures.length;
      setNotice({
        ok: true,
        text: r.claimed === 0
          ? "Claim all: nothing left to claim"
          : `Claim all: ${r.claimed} reward${r.claimed === 1 ? "" : "s"} (${sol(r.lamports, 9)}) paid to ${short(authority)} in ${n} transaction${n === 1 ? "" : "s"}`,
        signature: r.signatures[n - 1],
      });
    }
  };
  return (
    <section data-testid="earnings">
      <h2>Earnings</h2>
      <p className="muted">Rewards of {short(authority, 6)} as a majority member: claimable after the request's dispute window (at once after a dispute round). Anyone may send the claims; the lamports go to the operator's wallet.</p>
      {error && <div className="banner error">{error}</div>}
      {earnings === null ? <p>Loading earnings…</p> : (
        <>
          {earnings.length === 0 ? <p className="muted">No unclaimed rewards.</p> : (
            <table>
              <thead><tr><th>request</th><th>round</th><th>amount</th><th>unlock slot</th><th>status</th></tr></thead>
              <tbody>
                {earnings.map((e) => (
                  <tr key={`${e.request.toBase58()}-${e.round}`} data-testid="earning-row">
                    <td><a href={`#/request/${e.request.toBase58()}`}>{short(e.request, 6)}</a></td>
                    <td>{e.round}</td>
                    <td>{sol(e.amount, 9)}</td>
                    <td>{e.unlockSlot}</td>
                    <td>{e.unlockSlot <= slot ? <span className="ok">ready</span> : `locked until slot ${e.unlockSlot}`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <p>
            Total unclaimed {sol(earningsTotal(earnings), 9)} · ready: <span data-testid="earnings-ready">{ready.length}</span> ({sol(earningsTotal(ready), 9)})
          </p>
          <button className="primary" data-testid="claim-all" disabled={!wallet || ready.length === 0 || busy} title={wallet ? undefined : "Connect a wallet to send the claims"} onClick={claimAll}>
            Claim all
          </button>
        </>
      )}
    </section>
  );
}

export function OperatorPage() {
  const [, arg] = useRoute();
  const { wallet } = useVerity();
  const viewed = parseKey(arg);
  if (arg && !viewed) return <section><h1>Operator</h1><div className="banner error">Not an address: {arg}</div></section>;
  if (viewed && !(wallet && viewed.equals(wallet))) {
    return (
      <section>
        <h1>Operator {short(viewed, 6)}</h1>
        <Earnings authority={viewed} />
      </section>
    );
  }
  return <OwnOperator />;
}

function OwnOperator() {
  const { program, wallet, run, slot, stakeDecimals, cluster, health } = useVerity();
  const { connection } = useConnection();
  const pid = cluster.programId;
  const config = useLiveAccount("config", health?.ok ? configPda(pid) : null) as ConfigAccount | null | undefined;
  const operator = useLiveAccount("operator", wallet ? operatorPda(wallet, pid) : null);
  const { items: models } = useAll("model");
  const [served, setServed] = useState<bigint>(1n);
  const [amount, setAmount] = useState("");
  const [accts, setAccts] = useState<TokenAcct[]>([]);
  useEffect(() => {
    if (operator) setServed(BigInt(operator.servedModels.toString()));
  }, [operator?.servedModels.toString()]);
  useEffect(() => {
    if (!wallet || !config) return;
    connection
      .getParsedTokenAccountsByOwner(wallet, { mint: config.stakeMint })
      .then((r) => setAccts(r.value.map((a) => ({ address: a.pubkey, amount: BigInt(a.account.data.parsed.info.tokenAmount.amount) }))))
      .catch(() => setAccts([]));
  }, [connection, wallet, config, operator, slot - (slot % 10)]);

  if (!wallet) return <section><h1>Operator</h1><p>Connect the wallet that is (or will be) your operator's signing key.</p></section>;
  if (!config) return <section><h1>Operator</h1><p>Loading config…</p></section>;
  const base = { authority: wallet, config: configPda(pid), registry: registryPda(pid), operator: operatorPda(wallet, pid) };
  const amountBn = () => new BN(parseTokens(amount, stakeDecimals).toString());
  const wallets = accts.reduce((n, a) => n + a.amount, 0n);
  const modelBits = (models ?? []).map((m) => m.account).sort((a, b) => a.index - b.index);
  const toggles = (
    <div className="models-served">
      {modelBits.map((m) => (
        <label key={m.index} className="inline">
          <input type="checkbox" checked={servesModel(served, m.index)} onChange={() => setServed(toggleServedModel(served, m.index))} /> {m.name}
        </label>
      ))}
    </div>
  );
  const stake = () =>
    run("Stake", () => {
      const source = accts.find((a) => a.amount > 0n)?.address;
      if (!source) throw new Error(`no token account of the stake mint ${config.stakeMint.toBase58()} with a balance`);
      return program.methods.stake(amountBn()).accountsPartial({ ...base, stakeMint: config.stakeMint, source, stakeVault: config.stakeVault }).rpc();
    });
  const withdraw = () =>
    run("Withdraw", () => {
      const dest = accts[0]?.address ?? associatedTokenAddress(wallet, config.stakeMint);
      const pre = accts.length ? [] : [createAtaIdempotent(wallet, wallet, config.stakeMint)];
      return program.methods.withdrawStake().accountsPartial({ ...base, stakeMint: config.stakeMint, destination: dest, stakeVault: config.stakeVault }).preInstructions(pre).rpc();
    });

  return (
    <section>
      <h1>Operator</h1>
      <p className="muted">Stake token balance in this wallet: {tokens(wallets, stakeDecimals)} · minimum stake {tokens(config.params.minStake, stakeDecimals)} · unbonding {config.params.unbondingSlots.toString()} slots</p>
      {operator === undefined ? <p>Loading…</p> : operator === null ? (
        <div className="form">
          <p>This wallet is not a registered operator. Choose the models your node serves:</p>
          {toggles}
          <button className="primary" onClick={() => run("Register operator", () => program.methods.registerOperator(servedModelsArg(served)).accountsPartial(base).rpc())}>Register</button>
        </div>
      ) : (
        <>
          <table data-testid="operator-stats">
            <tbody>
              <tr><td>stake</td><td>{tokens(operator.stake, stakeDecimals)}</td></tr>
              <tr><td>unbonding</td><td>{tokens(operator.unbonding, stakeDecimals)}{operator.unbonding.gtn(0) && ` — release at slot ${operator.releaseSlot} (now ${slot})`}</td></tr>
              <tr><td>assigned / agreed / minority / missed</td><td>{operator.assigned.toString()} / {operator.agreed.toString()} / {operator.minority.toString()} / {operator.missed.toString()} ({pct(operator.agreed, operator.assigned)})</td></tr>
              <tr><td>served (majority rounds)</td><td data-testid="operator-served">{operator.tokensServed.toString()} tokens, {operator.flopsServed.isZero() ? "0 FLOP" : formatFlops(operator.flopsServed)}</td></tr>
              <tr><td>earned / slashed</td><td>{operator.earnedTotal.toString()} lamports / {tokens(operator.slashedTotal, stakeDecimals)}</td></tr>
            </tbody>
          </table>
          <div className="form">
            <label>Amount <input value={amount} onChange={(e) => setAmount(e.target.value)} placeholder="e.g. 100" /></label>
            <div className="row">
              <button onClick={stake}>Stake</button>
              <button onClick={() => run("Request unstake", () => program.methods.requestUnstake(amountBn()).accountsPartial(base).rpc())}>Request unstake</button>
              <button disabled={operator.unbonding.isZero()} onClick={withdraw}>Withdraw unbonded</button>
            </div>
            <p>Served models:</p>
            {toggles}
            <button onClick={() => run("Set served models", () => program.methods.setServedModels(servedModelsArg(served)).accountsPartial(base).rpc())}>Save served models</button>
          </div>
        </>
      )}
      <Earnings authority={wallet} />
    </section>
  );
}
