//! STAND-IN NODES — NOT oracle nodes. Only for a localnet without them (`scripts/localnet.sh`, i.e.
//! `verity-localnet`): signs as localnet.json's operators and answers every request of the bootstrapped model
//! (assign, commit, reveal, finalize, write the output) through the IDL client. Its answer is a labelled
//! placeholder, or the real model's output (with the request's sampling) when $VERITY_INFER_BIN points at the
//! oracle's `verity` binary.
//! Never run it next to `verity localnet`: its nodes sign with the same operator keys.
//! CLI: `VERITY_LOCALNET=<dir> npx tsx tests/ts/lib/operator-driver.ts`
import { spawnSync } from "node:child_process";
import { PublicKey } from "@solana/web3.js";
import { isGreedy, variant, explainError, type Sampling } from "@verity/sdk";
import { connect, loadInfo, programFor, readKeypair, sleep } from "./localnet";
import { driveRound, type Answer, type Committee } from "./scripted";

function answerFor(request: PublicKey, prompt: string, maxTokens: number, sampling: Sampling): Answer {
  const bin = process.env.VERITY_INFER_BIN;
  if (bin) {
    // The request's sampling, its RNG stream keyed by the Request address (oracle/NUMERICS.md §7), as the nodes run it.
    const decode = isGreedy(sampling)
      ? []
      : ["--temperature", (sampling.temperatureMilli / 1000).toFixed(3), "--top-p", (sampling.topPMilli / 1000).toFixed(3), "--seed", sampling.seed.toString(), "--request", request.toBase58()];
    const r = spawnSync(bin, ["infer", "--json", "--max-tokens", String(maxTokens), ...decode, prompt], { encoding: "utf8", timeout: 300_000 });
    const line = r.stdout?.split("\n").find((l) => l.startsWith("{"));
    if (r.status !== 0 || !line) throw new Error(`${bin} infer failed: ${r.stderr}`);
    const o = JSON.parse(line);
    return { text: o.text, tokensIn: o.tokens_in, tokensOut: o.tokens_out };
  }
  const words = `[stand-in operators, not a model] You asked: ${prompt}`.split(/\s+/).slice(0, maxTokens);
  return { text: words.join(" "), tokensIn: new TextEncoder().encode(prompt).length, tokensOut: words.length };
}

async function main() {
  const info = loadInfo();
  const connection = connect(info);
  const keys = info.operators.map((o) => readKeypair(o.keypair));
  const c: Committee = {
    model: new PublicKey(info.model.address),
    byAuthority: new Map(keys.map((k) => [k.publicKey.toBase58(), k] as const)),
    cranker: programFor(connection, keys[0]),
  };
  const done = new Set<string>();
  console.log(`STAND-IN NODES acting as ${keys.length} operators of ${info.model.name} on ${info.rpc_url}; waiting for requests…`);
  for (;;) {
    const pending = (await c.cranker.account.request.all()).filter(
      (r) => r.account.model.equals(c.model) && variant(r.account.status) === "pending" && !done.has(r.publicKey.toBase58()),
    );
    for (const r of pending) {
      done.add(r.publicKey.toBase58());
      try {
        const prompt = new TextDecoder().decode(Uint8Array.from(r.account.prompt));
        const a = await driveRound(c, r.publicKey, { answer: answerFor(r.publicKey, prompt, r.account.maxTokens, r.account.sampling) });
        console.log(`answered ${r.publicKey.toBase58()}: ${JSON.stringify(a.text)}`);
      } catch (e) {
        console.error(`request ${r.publicKey.toBase58()}: ${explainError(e).message}`);
      }
    }
    await sleep(1000);
  }
}

main().then(() => process.exit(0), (e) => (console.error(e), process.exit(1)));
