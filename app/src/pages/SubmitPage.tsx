//! Submit a prompt: model picker (price per 1k tokens and per token), max tokens, output capacity, sampling
//! (temperature, top-p, seed; temperature 0 = greedy), a fee estimate (minimum fee, rent of the Request + Output
//! (+ Prompt) accounts, transaction fees) checked against the wallet's balance, then `submit_request` and a jump
//! to the live timeline (the notice names the sampling, with the seed drawn when none was given, so it can be
//! reproduced). A prompt over the inline cap (up to the model's max_input_bytes) is first written to a Prompt
//! account in chunks, each its own transaction; a failed upload resumes on the next click (same Prompt), and one
//! left behind by an edited prompt is closed first, its rent back.
import { useEffect, useMemo, useRef, useState } from "react";
import BN from "bn.js";
import type { PublicKey } from "@solana/web3.js";
import { useConnection } from "@solana/wallet-adapter-react";
import { useVerity } from "../context";
import { useAll } from "../hooks";
import { eligibleAt, configPda, registryPda, closePrompt, formatPricePer1k, formatSampling, freshNonce, minimumFee, modelPda, outputSpace, promptChunks, promptPda, promptSpace, putPrompt, requestPda, requestSpace, samplingFromUser, samplingProblems, toMilli, MAX_INLINE_PROMPT_BYTES, MAX_TEMPERATURE, type Sampling } from "@verity/sdk";
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
  // The Prompt account of an upload not yet submitted: its nonce (the request reuses it) and the text it holds.
  const upload = useRef<{ nonce: BN; text: string } | null>(null);
  const [busy, setBusy] = useState(false); // one submit (upload + submit_request) at a time
  const model = active.find((m) => m.publicKey.toBase58() === modelKey) ?? active[0];
  const promptBytes = new TextEncoder().encode(prompt);
  const long = promptBytes.length > MAX_INLINE_PROMPT_BYTES;
  const inlineLen = long ? 0 : promptBytes.length;
  const txs = long ? 2 + promptChunks(promptBytes.length).length : 1;

  useEffect(() => {
    if (!health?.ok) return;
    program.account.config.fetch(configPda(cluster.programId)).then((c) => (setK(c.params.committeeSize), setMinStake(BigInt(c.params.minStake.toString())))).catch(() => {});
    program.account.operatorRegistry.fetch(registryPda(cluster.programId)).then((r) => setEntries(r.entries)).catch(() => {});
  }, [program, health?.ok, cluster.programId]);
  const promptAccountSpace = long ? promptSpace(promptBytes.length) : 0;
  const space = requestSpace(inlineLen, 0, k) + outputSpace(capacity) + promptAccountSpace;
  useEffect(() => {
    if (!health?.ok) return;
    Promise.all([
      connection.getMinimumBalanceForRentExemption(requestSpace(inlineLen, 0, k)),
      connection.getMinimumBalanceForRentExemption(outputSpace(capacity)),
      promptAccountSpace ? connection.getMinimumBalanceForRentExemption(promptAccountSpace) : Promise.resolve(0),
    ]).then(([a, b, c]) => setRent(BigInt(a + b + c))).catch(() => {});
  }, [connection, space, health?.ok]);
  useEffect(() => {
    if (wallet) connection.getBalance(wallet).then((b) => setBalance(BigInt(b))).catch(() => {});
  }, [connection, wallet, modelKey, prompt]);

  const fee = model ? minimumFee(model.account.pricePerToken, maxTokens) : 0n;
  const greedy = toMilli(temperature) === 0;
  const sampling = { temperature, topP, seed: greedy ? "" : seed }; // greedy: top-p and seed unused (GREEDY)
  const txFee = 5_000n * BigInt(txs) + 5_000n; // 5000 lamports per signature, plus a margin
  const total = fee + rent + txFee;
  const problems: string[] = [];
  const eligible = entries && model && slot ? eligibleAt(entries, slot, model.account.index, minStake).length : null;
  const warning = eligible !== null && eligible < k ? `only ${eligible} operator(s) serving this model are eligible now (committee size ${k}): the request would expire unassigned` : null;
  if (!model) problems.push("no active model on this cluster");
  if (!wallet) problems.push("connect a wallet");
  if (promptBytes.length === 0) problems.push("write a prompt");
  const maxPrompt = model ? model.account.maxInputBytes : 0; // over MAX_INLINE_PROMPT_BYTES: via a Prompt account
  if (model && promptBytes.length > maxPrompt) problems.push(`prompt is ${promptBytes.length} B, model ${model.account.name} accepts at most ${maxPrompt} B`);
  if (model && (maxTokens < 1 || maxTokens > model.account.maxOutputTokens)) problems.push(`max tokens must be 1..${model.account.maxOutputTokens}`);
  if (capacity < 1 || capacity > 4096) problems.push("output capacity must be 1..4096 bytes");
  problems.push(...samplingProblems(sampling));
  if (wallet && balance !== null && balance < total) problems.push(`insufficient balance: ${sol(balance)} < ${sol(total)} needed`);

  const submit = async () => {
    if (busy) return;
    setBusy(true);
    try {
      await submitOnce();
    } finally {
      setBusy(false);
    }
  };

  const submitOnce = async () => {
    if (!model || !wallet) return;
    let s: Sampling;
    try {
      s = samplingFromUser(sampling); // draws the seed now when none was given
    } catch (e) {
      return setNotice({ ok: false, text: (e as Error).message });
    }
    let nonce = freshNonce();
    let attached: { prompt: PublicKey; hash: number[] } | null = null;
    if (upload.current && (!long || upload.current.text !== prompt)) {
      // An earlier upload of another text: close its Prompt (rent back) before anything else.
      const stale = promptPda(wallet, upload.current.nonce, cluster.programId);
      const left = await program.account.prompt.fetchNullable(stale);
      if (left && !left.request && !(await run("Close the unused prompt account", () => closePrompt(program, wallet, stale).rpc()))) return;
      upload.current = null;
    }
    if (long) {
      upload.current ??= { nonce, text: prompt };
      nonce = upload.current.nonce;
      const earlier = await program.account.prompt.fetchNullable(promptPda(wallet, nonce, cluster.programId));
      if (earlier?.request) {
        // The earlier submit landed after all (its confirmation was lost): show that request.
        upload.current = null;
        return navigate(`/request/${earlier.request.toBase58()}`);
      }
      try {
        attached = await putPrompt(program, wallet, nonce, promptBytes, (step, send) => run(`${step.label} (transaction ${step.index}/${step.of})`, send));
      } catch (e) {
        return setNotice({ ok: false, text: (e as Error).message });
      }
      if (!attached) return; // the failed step's notice stands; submitting again resumes
    }
    const request = requestPda(wallet, nonce, cluster.programId);
    const label = `Submit request (${formatSampling(s)}${greedy ? "" : "; keep the seed to reproduce"})`;
    const sig = await run(label, () =>
      program.methods
        .submitRequest({ nonce, prompt: Buffer.from(attached ? new Uint8Array() : promptBytes), promptHash: attached?.hash ?? null, promptUri: "", maxTokens, fee: new BN(fee.toString()), outputCapacity: capacity, callbackProgram: null, sampling: s })
        .accountsPartial({ requester: wallet, model: modelPda(model.account.modelId, cluster.programId), request, prompt: attached?.prompt ?? null })
        .rpc(),
    );
    if (sig) {
      upload.current = null;
      navigate(`/request/${request.toBase58()}`);
    }
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
        <label>Prompt <small data-testid="prompt-size">{promptBytes.length}/{model ? maxPrompt : "?"} bytes{long ? ` — over ${MAX_INLINE_PROMPT_BYTES} B: written to a prompt account first (${txs - 1} transactions, rent back on close)` : ""}</small>
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
            <tr><td>Rent of Request + Output{long ? " + Prompt" : ""} ({space} B, back on close)</td><td>{sol(rent, 9)}</td></tr>
            <tr><td>Transaction fee{txs > 1 ? `s (${txs} transactions)` : ""} (approx.)</td><td>{sol(txFee, 9)}</td></tr>
            <tr className="total"><td>Total</td><td>{sol(total, 9)}</td></tr>
          </tbody>
        </table>
        {warning && <div className="banner error" data-testid="eligibility">{warning}</div>}
        {problems.length > 0 && <ul className="problems" data-testid="problems">{problems.map((p) => <li key={p}>{p}</li>)}</ul>}
        <button data-testid="submit" className="primary" disabled={problems.length > 0 || busy} onClick={submit}>{busy ? "Submitting…" : "Submit request"}</button>
      </div>
    </section>
  );
}
