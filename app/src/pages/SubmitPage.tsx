//! Submit a prompt: model picker (price per 1k tokens and per token), max tokens, output capacity, sampling
//! (temperature, top-p, seed; temperature 0 = greedy), a fee estimate (minimum fee, rent of the Request + Output
//! accounts, transaction fee) checked against the wallet's balance, then `submit_request` and a jump to the live
//! timeline (the notice names the sampling, with the seed drawn when none was given, so it can be reproduced).
import { useEffect, useMemo, useState } from "react";
import BN from "bn.js";
import { useConnection } from "@solana/wallet-adapter-react";
import { useVerity } from "../context";
import { useAll } from "../hooks";
import { eligibleAt, configPda, registryPda, formatPricePer1k, formatSampling, freshNonce, minimumFee, modelPda, outputSpace, requestPda, requestSpace, samplingFromUser, samplingProblems, toMilli, MAX_INLINE_PROMPT_BYTES, MAX_TEMPERATURE, type Sampling } from "@verity/sdk";
import { sol } from "../lib/format";
import { navigate } from "../router";

export function SubmitPage() {
  const { program, wallet, run, setNotice, cluster, health, slot } = useVerity();
  const { connection } = useConnection();
  const { items: models, error } = useAll("model");
  const active = useMemo(() => (models ?? []).filter((m) => m.account.active), [models]);
  const [modelKey, setModelKey] = useState("");
  const [prompt, setPrompt] = useState("");
  const [maxTokens, setMaxTokens] = useState(32);
  const [capacity, setCapacity] = useState(512);
  const [temperature, setTemperature] = useState("0");
  const [topP, setTopP] = useState("1");
  const [seed, setSeed] = useState("");
  const [k, setK] = useState(3);
  const [minStake, setMinStake] = useState(0n);
  const [entries, setEntries] = useState<Parameters<typeof eligibleAt>[0] | null>(null);
  const [rent, setRent] = useState<bigint>(0n);
  const [balance, setBalance] = useState<bigint | null>(null);
  const model = active.find((m) => m.publicKey.toBase58() === modelKey) ?? active[0];
  const promptBytes = new TextEncoder().encode(prompt);

  useEffect(() => {
    if (!health?.ok) return;
    program.account.config.fetch(configPda(cluster.programId)).then((c) => (setK(c.params.committeeSize), setMinStake(BigInt(c.params.minStake.toString())))).catch(() => {});
    program.account.operatorRegistry.fetch(registryPda(cluster.programId)).then((r) => setEntries(r.entries)).catch(() => {});
  }, [program, health?.ok, cluster.programId]);
  const space = requestSpace(promptBytes.length, 0, k) + outputSpace(capacity);
  useEffect(() => {
    if (!health?.ok) return;
    Promise.all([
      connection.getMinimumBalanceForRentExemption(requestSpace(promptBytes.length, 0, k)),
      connection.getMinimumBalanceForRentExemption(outputSpace(capacity)),
    ]).then(([a, b]) => setRent(BigInt(a + b))).catch(() => {});
  }, [connection, space, health?.ok]);
  useEffect(() => {
    if (wallet) connection.getBalance(wallet).then((b) => setBalance(BigInt(b))).catch(() => {});
  }, [connection, wallet, modelKey, prompt]);

  const fee = model ? minimumFee(model.account.pricePerToken, maxTokens) : 0n;
  const greedy = toMilli(temperature) === 0;
  const sampling = { temperature, topP, seed: greedy ? "" : seed }; // greedy: top-p and seed unused (GREEDY)
  const total = fee + rent + 10_000n;
  const problems: string[] = [];
  const eligible = entries && model && slot ? eligibleAt(entries, slot, model.account.index, minStake).length : null;
  const warning = eligible !== null && eligible < k ? `only ${eligible} operator(s) serving this model are eligible now (committee size ${k}): the request would expire unassigned` : null;
  if (!model) problems.push("no active model on this cluster");
  if (!wallet) problems.push("connect a wallet");
  if (promptBytes.length === 0) problems.push("write a prompt");
  const maxPrompt = model ? Math.min(model.account.maxInputBytes, MAX_INLINE_PROMPT_BYTES) : 0; // inline prompts only
  if (model && promptBytes.length > maxPrompt) problems.push(`prompt is ${promptBytes.length} B, this page sends ≤ ${maxPrompt} B inline (the model takes ≤ ${model.account.maxInputBytes} B)`);
  if (model && (maxTokens < 1 || maxTokens > model.account.maxOutputTokens)) problems.push(`max tokens must be 1..${model.account.maxOutputTokens}`);
  if (capacity < 1 || capacity > 4096) problems.push("output capacity must be 1..4096 bytes");
  problems.push(...samplingProblems(sampling));
  if (wallet && balance !== null && balance < total) problems.push(`insufficient balance: ${sol(balance)} < ${sol(total)} needed`);

  const submit = async () => {
    if (!model || !wallet) return;
    let s: Sampling;
    try {
      s = samplingFromUser(sampling); // draws the seed now when none was given
    } catch (e) {
      return setNotice({ ok: false, text: (e as Error).message });
    }
    const nonce = freshNonce();
    const request = requestPda(wallet, nonce, cluster.programId);
    const label = `Submit request (${formatSampling(s)}${greedy ? "" : "; keep the seed to reproduce"})`;
    const sig = await run(label, () =>
      program.methods
        .submitRequest({ nonce, prompt: Buffer.from(promptBytes), promptHash: null, promptUri: "", maxTokens, fee: new BN(fee.toString()), outputCapacity: capacity, callbackProgram: null, sampling: s })
        .accountsPartial({ requester: wallet, model: modelPda(model.account.modelId, cluster.programId), request, prompt: null })
        .rpc(),
    );
    if (sig) navigate(`/request/${request.toBase58()}`);
  };

  return (
    <section>
      <h1>Submit a prompt</h1>
      {error && <div className="banner error">Could not load models: {error}</div>}
      <div className="form">
        <label>Model
          <select data-testid="model-select" value={model?.publicKey.toBase58() ?? ""} onChange={(e) => setModelKey(e.target.value)}>
            {active.map((m) => (
              <option key={m.publicKey.toBase58()} value={m.publicKey.toBase58()}>
                {m.account.name} — {formatPricePer1k(m.account.pricePerToken)} ({m.account.pricePerToken.toString()} lamports/token)
              </option>
            ))}
          </select>
        </label>
        <label>Prompt <small>{promptBytes.length}/{model ? maxPrompt : "?"} bytes</small>
          <textarea data-testid="prompt" rows={4} value={prompt} onChange={(e) => setPrompt(e.target.value)} placeholder="Ask the model…" />
        </label>
        <div className="row">
          <label>Max tokens
            <input data-testid="max-tokens" type="number" min={1} max={model?.account.maxOutputTokens} value={maxTokens} onChange={(e) => setMaxTokens(Number(e.target.value))} />
          </label>
          <label>Output capacity (bytes on chain)
            <input type="number" min={1} max={4096} value={capacity} onChange={(e) => setCapacity(Number(e.target.value))} />
          </label>
        </div>
        <div className="row">
          <label>Temperature <small>0–{MAX_TEMPERATURE}, 0 = greedy</small>
            <input data-testid="temperature" type="number" min={0} max={MAX_TEMPERATURE} step={0.01} value={temperature} onChange={(e) => setTemperature(e.target.value)} />
          </label>
          <label className={greedy ? "disabled" : undefined}>Top-p <small>0.001–1{greedy ? ", unused when greedy" : ""}</small>
            <input data-testid="top-p" type="number" min={0.001} max={1} step={0.001} value={topP} disabled={greedy} onChange={(e) => setTopP(e.target.value)} />
          </label>
          <label className={greedy ? "disabled" : undefined}>Seed <small>optional, u64</small>
            <input data-testid="seed" inputMode="numeric" placeholder="random" value={seed} disabled={greedy} onChange={(e) => setSeed(e.target.value)} />
          </label>
        </div>
        <p className="muted" data-testid="sampling-preview">Decoding: {greedy ? "greedy (the most likely token each step)" : `T ${temperature} · top-p ${topP} · seed ${seed.trim() || "random (drawn at submit, shown afterwards)"}`}</p>
        <table className="estimate" data-testid="fee-estimate">
          <tbody>
            <tr><td>Price</td><td data-testid="price-1k">{model ? `${formatPricePer1k(model.account.pricePerToken)} (${sol(model.account.pricePerToken, 9)}/token)` : "—"}</td></tr>
            <tr><td>Fee (escrowed: price × max tokens)</td><td data-testid="fee">{sol(fee, 9)}</td></tr>
            <tr><td>Rent of Request + Output ({space} B, back on close)</td><td>{sol(rent, 9)}</td></tr>
            <tr><td>Transaction fee (approx.)</td><td>{sol(10_000n, 9)}</td></tr>
            <tr className="total"><td>Total</td><td>{sol(total, 9)}</td></tr>
          </tbody>
        </table>
        {warning && <div className="banner error" data-testid="eligibility">{warning}</div>}
        {problems.length > 0 && <ul className="problems" data-testid="problems">{problems.map((p) => <li key={p}>{p}</li>)}</ul>}
        <button data-testid="submit" className="primary" disabled={problems.length > 0} onClick={submit}>Submit request</button>
      </div>
    </section>
  );
}
