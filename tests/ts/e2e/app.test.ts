//! Browser end-to-end: headless Debian chromium (playwright-core) opens the built app against the running
//! `verity localnet`, connects the burner wallet, airdrops, checks the model picker's prices and the sampling
//! fields (ranges refused on the page), submits a prompt, watches the live timeline while the real oracle nodes
//! answer, and checks the finalized output (equal to the Output account, hash check ✓), the timeline and the
//! receipt on screen (tokens, price per 1k, fee, ≈FLOPs); a prompt over the inline cap uploaded to a Prompt account
//! in chunks and answered; also a rejected transaction (program error name shown), a fresh operator's empty
//! earnings, the leaderboard's served work and the wrong-cluster banner. Screenshots land in test-results/e2e/ (3-finalized.png: the
//! finalized output).
//! The app is served by vite's preview server in this process (no child process to leave behind); `after` closes
//! it and the browser, pass or fail.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { preview, type PreviewServer } from "vite";
import { PublicKey } from "@solana/web3.js";
import { IDL_JSON, MAX_INLINE_PROMPT_BYTES, approxFlops, formatFlops, formatSampling, formatSi, minimumFee, modelPda, outputPda, pricePer1k, promptChunks, programErrorName, variant } from "@verity/sdk";
import { connect, loadInfo, programFor, readKeypair, REPO, sleep, waitForOperatorsEffective } from "../lib/localnet";

const info = loadInfo();
const connection = connect(info);
const program = programFor(connection, readKeypair(info.wallet_keypair));
const PORT = Number(process.env.E2E_PORT ?? 4173);
const SHOTS = join(REPO, "test-results", "e2e");

/** Lamports as the app displays them (app/src/lib/format.ts `sol`), restated so the test does not import the app. */
function sol(lamports: bigint, digits: number): string {
  const frac = (lamports % 1_000_000_000n).toString().padStart(9, "0").slice(0, digits).replace(/0+$/, "");
  return `${lamports / 1_000_000_000n}${frac ? "." + frac : ""} SOL`;
}
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
let server: PreviewServer | undefined;
let ctx: BrowserContext;
let page: Page;
let profile: string;
const logs: string[] = [];
const appUrl = (hash: string, extra = "") =>
  `http://127.0.0.1:${PORT}/?rpc=${encodeURIComponent(info.rpc_url)}&ws=${encodeURIComponent(info.ws_url)}${extra}#${hash}`;

before(async () => {
  rmSync(SHOTS, { recursive: true, force: true }); // only this run's screenshots
  mkdirSync(SHOTS, { recursive: true });
  await waitForOperatorsEffective(program);
  // The production build (npm run build -w app) served by vite preview (app/vite.config.ts: 127.0.0.1).
  server = await preview({ root: join(REPO, "app"), logLevel: "warn", preview: { port: PORT, strictPort: true } });
  const up = await fetch(`http://127.0.0.1:${PORT}/`).then((r) => r.ok, () => false);
  assert.ok(up, `vite preview is not serving on port ${PORT}`);
  profile = mkdtempSync(join(tmpdir(), "verity-e2e-chromium-"));
  ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 1000 } });
  page = ctx.pages()[0] ?? (await ctx.newPage());
  page.on("console", (m) => m.type() === "error" && logs.push(`console: ${m.text()}`));
  page.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
});

after(async () => {
  await ctx?.close().catch((e) => console.error(`closing the browser: ${e}`));
  await server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function connectBurner() {
  await page.getByRole("button", { name: /Select Wallet/i }).click();
  await page.getByRole("button", { name: /Burner \(local, unsafe\)/ }).click();
  await page.getByTestId("balance").waitFor();
}

test("wrong cluster: a program id that is not deployed is reported", async () => {
  const bogus = new PublicKey(new Uint8Array(32).fill(9)).toBase58();
  await page.goto(appUrl("/submit", `&program=${bogus}`));
  const banner = page.getByTestId("cluster-problem");
  await banner.waitFor({ timeout: 20_000 });
  assert.match(await banner.innerText(), /Wrong cluster: program .* is not deployed on localnet/);
});

test("burner wallet submits a prompt and sees the real nodes' finalized output live", { timeout: 600_000 }, async () => {
  await page.goto(appUrl("/submit"));
  await connectBurner();
  const lamports = async () => Number((await page.getByTestId("balance").getAttribute("data-lamports")) || 0);
  await page.getByTestId("airdrop").click();
  for (let i = 0; (await lamports()) < 1e9; i++) {
    assert.ok(i < 100, "airdrop did not arrive");
    await sleep(200);
  }

  const model = await program.account.model.fetch(modelPda(info.model.id));
  await page.getByTestId("model-select").selectOption(info.model.address);
  // The picker lists every active model with its price per 1k tokens and per token.
  const per1k = `${sol(pricePer1k(model.pricePerToken), 9)} / 1k tokens`;
  const option = await page.locator(`[data-testid=model-select] option[value="${info.model.address}"]`).innerText();
  assert.ok(option.includes(per1k) && option.includes(`${model.pricePerToken.toString()} lamports/token`), `model option "${option}" shows ${per1k}`);
  assert.match(await page.getByTestId("price-1k").innerText(), new RegExp(`^${escapeRe(per1k)}`));
  // Sampling: temperature 0 (greedy) by default, top-p greyed out then, seed optional ("random"); out-of-range
  // values are refused on the page with the program's ranges.
  const [temperature, topP, seed] = ["temperature", "top-p", "seed"].map((id) => page.getByTestId(id));
  assert.equal(await temperature.inputValue(), "0");
  assert.equal(await topP.inputValue(), "1");
  assert.ok(await topP.isDisabled(), "top-p is greyed out when greedy");
  assert.equal(await seed.getAttribute("placeholder"), "random");
  const problems = async () => ((await page.getByTestId("problems").count()) ? await page.getByTestId("problems").innerText() : "");
  /** Polls until the form's problem list matches (or no longer matches) `re`: React re-renders after the input event. */
  const problemsSay = async (re: RegExp, present = true) => {
    for (let i = 0; re.test(await problems()) !== present; i++) {
      assert.ok(i < 50, `problems ${present ? "lack" : "still show"} ${re}: ${JSON.stringify(await problems())}`);
      await sleep(100);
    }
  };
  await temperature.fill("2.5");
  await problemsSay(/temperature must be 0\.\.2/);
  assert.ok(await page.getByTestId("submit").isDisabled());
  await temperature.fill("0.7");
  await page.locator("[data-testid=top-p]:enabled").waitFor({ timeout: 5_000 }); // enabled when sampling
  await topP.fill("0");
  await problemsSay(/top-p must be 0\.001\.\.1/);
  await topP.fill("0.9");
  await seed.fill("12a");
  await problemsSay(/seed must be a whole number/);
  await seed.fill("");
  await problemsSay(/temperature|top-p|seed/, false);
  assert.match(await page.getByTestId("sampling-preview").innerText(), /T 0\.7 · top-p 0\.9 · seed random/);
  await temperature.fill("0"); // this round decodes greedily
  await page.locator("[data-testid=top-p]:disabled").waitFor({ timeout: 5_000 });
  const prompt = "In one sentence: what is Solana?";
  await page.getByTestId("prompt").fill(prompt);
  await page.getByTestId("max-tokens").fill("24");
  assert.equal(await page.getByTestId("fee").innerText(), sol(minimumFee(model.pricePerToken, 24), 9));
  await page.screenshot({ path: join(SHOTS, "1-submit.png"), fullPage: true });
  await page.getByTestId("submit").click();
  await page.waitForURL(/#\/request\/\w+/, { timeout: 30_000 });
  const address = new URL(page.url()).hash.split("/")[2];
  const request = new PublicKey(address);
  const onChain = await program.account.request.fetch(request);
  assert.equal(new TextDecoder().decode(Uint8Array.from(onChain.prompt)), prompt);
  assert.deepEqual([onChain.sampling.temperatureMilli, onChain.sampling.topPMilli, onChain.sampling.seed.toString()], [0, 1000, "0"], "greedy");
  assert.equal(await page.getByTestId("sampling").innerText(), formatSampling(onChain.sampling));

  // The oracle nodes take it from here: the timeline moves (websocket) to assigned, then to the output.
  await page.getByTestId("step-assigned").and(page.locator('[data-done="true"]')).waitFor({ timeout: 120_000 });
  await page.screenshot({ path: join(SHOTS, "2-assigned.png"), fullPage: true });
  const out = page.getByTestId("output");
  await out.waitFor({ timeout: 300_000 });
  const output = await program.account.output.fetch(outputPda(request));
  assert.ok(output.complete);
  const text = new TextDecoder().decode(Uint8Array.from(output.data));
  assert.ok(text.trim().length > 0, "the model wrote something");
  assert.equal(await out.textContent(), text, "the page shows the Output account's bytes");
  assert.match(await page.getByTestId("output-verified").innerText(), /✓/);
  assert.equal(await page.getByTestId("status").innerText(), "finalized");
  for (const step of ["submitted", "assigned", "commits", "reveals", "final"]) {
    assert.equal(await page.getByTestId(`step-${step}`).getAttribute("data-done"), "true", step);
  }
  const k = info.committee_size;
  assert.equal(await page.getByTestId("receipt-agreement").innerText(), `${k}/${k}`);
  const req = await program.account.request.fetch(request);
  assert.equal(variant(req.status), "finalized");
  assert.equal(await page.getByTestId("receipt-tokens").innerText(), `${req.receipt.tokensIn} / ${req.receipt.tokensOut}`);
  assert.match(await page.getByTestId("receipt-price").innerText(), new RegExp(`^${escapeRe(sol(pricePer1k(req.receipt.pricePerToken), 9))} / 1k tokens`));
  assert.equal(await page.getByTestId("receipt-fee").innerText(), sol(BigInt(req.receipt.feePaid.toString()), 9));
  assert.equal(req.receipt.approxFlops.toString(), approxFlops(model.paramCount, req.receipt.tokensIn, req.receipt.tokensOut).toString());
  assert.match(await page.getByTestId("receipt-flops").innerText(), new RegExp(`^${escapeRe(formatFlops(req.receipt.approxFlops))} \\(2 × \\S+ params × ${req.receipt.tokensIn + req.receipt.tokensOut} tokens\\)$`));
  // The live event feed (logsSubscribe) saw the round as it happened.
  const names = await page.getByTestId("event").evaluateAll((els) => els.map((e) => e.getAttribute("data-name")));
  for (const n of ["committeeAssigned", "resultCommitted", "resultRevealed", "requestFinalized", "outputWritten"]) assert.ok(names.includes(n), `${n} in ${names}`);
  await page.getByTestId("output").scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SHOTS, "3-finalized.png"), fullPage: true });
  console.log(`# finalized output on screen: ${JSON.stringify(text)} → ${join(SHOTS, "3-finalized.png")}`);
});

test("a prompt over the inline cap is written to a Prompt account in chunks, then answered by the nodes", { timeout: 400_000 }, async () => {
  await page.goto(appUrl("/submit"));
  await page.getByTestId("balance").waitFor({ timeout: 20_000 }); // the burner from the first test
  await page.getByTestId("model-select").selectOption(info.model.address);
  const facts = Array.from({ length: 40 }, (_, i) => `Fact ${i + 1}: the number ${i + 1} squared is ${(i + 1) ** 2}.`);
  const prompt = `${facts.join(" ")} Question: what is 6 squared? Answer with the number only.`;
  const bytes = Buffer.from(prompt);
  const uploads = promptChunks(bytes.length).length + 1; // create_prompt + the write_prompt chunks
  assert.ok(bytes.length > MAX_INLINE_PROMPT_BYTES && uploads >= 3, `${bytes.length} B: over the inline cap, two chunks or more`);
  await page.getByTestId("prompt").fill(prompt);
  await page.getByTestId("max-tokens").fill("4");
  assert.match(await page.getByTestId("prompt-size").innerText(), new RegExp(`^${bytes.length}/\\d+ bytes — over ${MAX_INLINE_PROMPT_BYTES} B: written to a prompt account first \\(${uploads} transactions`));
  await page.getByTestId("submit").click();
  await page.waitForURL(/#\/request\/\w+/, { timeout: 60_000 });
  const request = new PublicKey(new URL(page.url()).hash.split("/")[2]);
  const r = await program.account.request.fetch(request);
  assert.equal(r.prompt.length, 0, "nothing inline");
  assert.ok(r.promptAccount, "the request names its Prompt account");
  const p = await program.account.prompt.fetch(r.promptAccount);
  assert.ok(Buffer.from(p.data).equals(bytes) && p.written === bytes.length, "the Prompt holds the whole prompt");
  assert.ok(p.request?.equals(request), "attached to the request");
  const hash = createHash("sha256").update(bytes).digest();
  assert.ok(Buffer.from(r.promptHash).equals(hash) && Buffer.from(p.hash).equals(hash), "request and Prompt carry its sha256");
  const shown = page.getByTestId("prompt-text");
  await shown.filter({ hasText: `(${bytes.length} B in Prompt account` }).waitFor({ timeout: 20_000 }); // once the Prompt account loaded
  const text = await shown.innerText();
  assert.ok(text.startsWith(`Prompt: (${bytes.length} B in Prompt account`) && text.endsWith(prompt), `the page shows the Prompt account's text: ${JSON.stringify(text)}`);
  await page.getByTestId("output").waitFor({ timeout: 300_000 });
  assert.equal(await page.getByTestId("status").innerText(), "finalized");
  const done = await program.account.request.fetch(request);
  assert.equal(done.receipt.agreementCount, done.committeeSize, "every node read the same prompt and agreed");
  assert.ok(done.receipt.tokensIn > 300, `tokens in ${done.receipt.tokensIn}: the whole prompt was read`);
  await page.screenshot({ path: join(SHOTS, "3b-long-prompt.png"), fullPage: true });
});

test("a rejected transaction shows the program's error name (unstake more than staked)", async () => {
  await page.goto(appUrl("/operator"));
  // Register the burner as an operator serving no model (never drawn), then ask to unstake 1 token.
  await page.getByRole("button", { name: "Register" }).waitFor({ timeout: 20_000 });
  await page.locator(".models-served input[type=checkbox]").first().waitFor({ timeout: 20_000 });
  for (const box of await page.locator(".models-served input[type=checkbox]").all()) if (await box.isChecked()) await box.uncheck();
  await page.getByRole("button", { name: "Register" }).click();
  await page.getByTestId("operator-stats").waitFor({ timeout: 30_000 });
  // Never drawn, so nothing earned: the earnings section shows no reward ready and "Claim all" disabled.
  await page.getByTestId("earnings").waitFor({ timeout: 20_000 });
  await page.getByTestId("earnings-ready").waitFor({ timeout: 30_000 });
  assert.equal(await page.getByTestId("earnings-ready").innerText(), "0");
  assert.ok(await page.getByTestId("claim-all").isDisabled(), "Claim all is disabled with nothing ready");
  await page.getByPlaceholder("e.g. 100").fill("1");
  await page.getByRole("button", { name: "Request unstake" }).click();
  const err = page.getByTestId("error");
  await err.waitFor({ timeout: 20_000 });
  const code = (IDL_JSON.errors as { name: string; code: number }[]).find((e) => e.name === "InsufficientStake")!.code;
  assert.equal(programErrorName(code), "InsufficientStake");
  assert.match(await err.innerText(), new RegExp(`InsufficientStake \\(${code}\\)`));
  await page.screenshot({ path: join(SHOTS, "4-rejected.png"), fullPage: true });
  await err.getByRole("button", { name: "×" }).click();
});

test("leaderboard, models and operator pages render the chain's accounts", async () => {
  await page.goto(appUrl("/operators"));
  await page.getByTestId("operator-row").first().waitFor({ timeout: 20_000 });
  assert.ok((await page.getByTestId("operator-row").count()) >= info.operators.length);
  // The served-work column shows each Operator's on-chain counters (the earlier test's request credited its majority).
  const ops = await program.account.operator.all();
  const shown = (await page.getByTestId("operator-served").allInnerTexts()).sort();
  const expected = ops.map(({ account: o }) => (o.tokensServed.isZero() ? "—" : `${formatSi(o.tokensServed)} tokens, ${o.flopsServed.isZero() ? "FLOPs unknown" : formatFlops(o.flopsServed)}`)).sort();
  assert.deepEqual(shown, expected);
  assert.ok(ops.some(({ account: o }) => o.flopsServed.gtn(0)), "some operator was credited work");
  await page.screenshot({ path: join(SHOTS, "5-leaderboard.png"), fullPage: true });
  await page.goto(appUrl("/models"));
  await page.getByTestId("model-row").first().waitFor({ timeout: 20_000 });
  assert.match(await page.getByTestId("models").innerText(), new RegExp(escapeRe(info.model.name)));
  const model = await program.account.model.fetch(modelPda(info.model.id));
  const prices = await page.getByTestId("model-price-1k").allInnerTexts();
  assert.ok(prices.includes(sol(pricePer1k(model.pricePerToken), 9)), `price per 1k column ${JSON.stringify(prices)}`);
  assert.deepEqual(logs.filter((l) => l.startsWith("pageerror")), []);
});
