//! The requester's side: validate and submit a prompt (one longer than an inline one goes into a `Prompt`
//! account first, in chunks), wait for the outcome and the on-chain output, and render a request's timeline and
//! compute receipt (`verity request`, `verity demo`, the tests).
use {
    super::{ix, pda, ChainClient},
    anchor_lang::prelude::Pubkey,
    solana_keypair::Keypair,
    solana_signer::Signer,
    std::{fmt::Write, time::Duration},
    verity::{
        state::{Model, Output, Request, RequestStatus},
        Sampling, SubmitRequestArgs,
    },
};

/// What a wallet asks for.
#[derive(Clone, Debug)]
pub struct Ask {
    pub model: Pubkey,
    pub prompt: Vec<u8>,
    pub max_tokens: u32,
    /// Fee in lamports (None: the minimum, price × max_tokens).
    pub fee: Option<u64>,
    pub output_capacity: u32,
    /// Temperature, top-p and seed (NUMERICS.md §7); [`Sampling::GREEDY`] decodes greedily.
    pub sampling: Sampling,
    /// Where the nodes fetch the prompt (http(s)): the request then carries only `sha256(prompt)` and this URI,
    /// and `prompt` must be exactly the bytes it serves.
    pub prompt_uri: Option<String>,
}

/// Checks `ask` against the model on chain (clear errors before any transaction) and submits it; returns the
/// Request address. A prompt over [`verity::MAX_PROMPT_BYTES`] (the inline cap) is first written into the
/// wallet's `Prompt` account (same nonce as the request; create + chunks, each its own transaction), which the
/// submit then names (the program checks it complete and matching, and closes it with the request). With
/// `prompt_uri` only the prompt's hash and the URI go on chain (the nodes fetch it).
pub async fn submit(chain: &ChainClient, wallet: &Keypair, ask: &Ask) -> anyhow::Result<Pubkey> {
    let model: Model = match chain.account(&ask.model, "Model").await {
        Ok(m) => m,
        Err(super::ChainError::NotFound(_)) => anyhow::bail!("unknown model: no model account at {}", ask.model),
        Err(e) => return Err(e.into()),
    };
    anyhow::ensure!(model.active, "model {} ({}) is inactive", model.name, ask.model);
    anyhow::ensure!(!ask.prompt.is_empty(), "empty prompt");
    anyhow::ensure!(
        ask.prompt.len() <= model.max_input_bytes as usize,
        "prompt is {} bytes; model {} accepts at most {}",
        ask.prompt.len(),
        model.name,
        model.max_input_bytes
    );
    anyhow::ensure!(
        (1..=model.max_output_tokens).contains(&ask.max_tokens),
        "max_tokens must be 1..={} for model {}",
        model.max_output_tokens,
        model.name
    );
    anyhow::ensure!((1..=4096).contains(&ask.output_capacity), "output capacity must be 1..=4096 bytes");
    // The program's own rule (`Sampling::check`): the wallet refuses exactly what the program would.
    anyhow::ensure!(
        ask.sampling.check().is_ok(),
        "sampling out of range: temperature 0..=2 (0 = greedy), top-p in (0, 1]"
    );
    let min_fee = model.price_per_token.saturating_mul(u64::from(ask.max_tokens));
    let fee = ask.fee.unwrap_or(min_fee);
    anyhow::ensure!(fee >= min_fee, "fee {fee} is below the minimum {min_fee} (price × max_tokens)");
    let nonce = rand::random::<u64>();
    let args = SubmitRequestArgs {
        nonce,
        prompt: ask.prompt.clone(),
        prompt_hash: None,
        prompt_uri: String::new(),
        max_tokens: ask.max_tokens,
        fee,
        output_capacity: ask.output_capacity,
        callback_program: None,
        sampling: ask.sampling,
    };
    let submit = if let Some(uri) = &ask.prompt_uri {
        let scheme = uri.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        anyhow::ensure!(
            matches!(scheme.as_deref(), Some("http" | "https")) && uri.len() <= verity::MAX_URI_LEN,
            "prompt URI must be an http(s) URL of at most {} bytes",
            verity::MAX_URI_LEN
        );
        let args = SubmitRequestArgs {
            prompt: Vec::new(),
            prompt_hash: Some(verity::logic::sha256(&ask.prompt)),
            prompt_uri: uri.clone(),
            ..args
        };
        ix::submit(&wallet.pubkey(), &ask.model, args)
    } else if ask.prompt.len() > verity::MAX_PROMPT_BYTES as usize {
        let prompt = super::prompt::put(chain, wallet, nonce, &ask.prompt).await?;
        let args =
            SubmitRequestArgs { prompt: Vec::new(), prompt_hash: Some(verity::logic::sha256(&ask.prompt)), ..args };
        super::prompt::submit_ix(&wallet.pubkey(), &ask.model, args, &prompt)
    } else {
        ix::submit(&wallet.pubkey(), &ask.model, args)
    };
    chain.send("submit_request", &[submit], wallet).await?;
    Ok(pda::request(&wallet.pubkey(), nonce))
}

/// Polls until the request reaches a final status (Finalized, NoConsensus, Expired) or `timeout` passes.
pub async fn wait_final(chain: &ChainClient, key: &Pubkey, timeout: Duration) -> anyhow::Result<Request> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let r: Request = chain.account(key, "Request").await?;
        if matches!(r.status, RequestStatus::Finalized | RequestStatus::NoConsensus | RequestStatus::Expired) {
            return Ok(r);
        }
        anyhow::ensure!(tokio::time::Instant::now() < deadline, "request {key} still {:?} after {timeout:?}", r.status);
        tokio::time::sleep(crate::defaults::WALLET_POLL).await;
    }
}

/// Polls until the request's Output account is complete; returns the text.
pub async fn wait_output(chain: &ChainClient, key: &Pubkey, timeout: Duration) -> anyhow::Result<String> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let out: Output = chain.account(&pda::output(key), "Output").await?;
        if out.complete {
            return Ok(String::from_utf8_lossy(&out.data).into_owned());
        }
        anyhow::ensure!(tokio::time::Instant::now() < deadline, "output of {key} not written after {timeout:?}");
        tokio::time::sleep(crate::defaults::WALLET_POLL).await;
    }
}

/// Timeline, committee and compute receipt of a request, as text.
/// A slot, or "-" for 0 (never happened).
fn slot_or_dash(slot: u64) -> String {
    if slot == 0 {
        "-".into()
    } else {
        slot.to_string()
    }
}

pub fn describe(key: &Pubkey, r: &Request, output: Option<&Output>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "request   {key}  status {:?}  requester {}", r.status, r.requester);
    match r.prompt_account {
        Some(p) => {
            let _ = writeln!(s, "prompt    in Prompt account {p}  sha256 {}", hex::encode(r.prompt_hash));
        }
        None if !r.prompt_uri.is_empty() => {
            let _ = writeln!(s, "prompt    at {}  sha256 {}", r.prompt_uri, hex::encode(r.prompt_hash));
        }
        None => {
            let _ = writeln!(s, "prompt    {:?}", String::from_utf8_lossy(&r.prompt));
        }
    }
    let _ = writeln!(s, "sampling  {}", sampling_label(&r.sampling));
    let _ = writeln!(
        s,
        "slots     submit {}  assign {}  commit≤{}  reveal≤{}  finalized {}  (seed slot {})",
        r.submit_slot,
        r.committee.assign_slot,
        r.committee.commit_deadline,
        r.committee.reveal_deadline,
        r.finalized_slot,
        r.committee.seed_slot
    );
    for m in &r.committee.members {
        let _ = writeln!(
            s,
            "member    {}  {:?} → {:?}  committed @{}  revealed @{}  tokens {}/{}  reward {}  slashed {}",
            m.operator,
            m.state,
            m.outcome,
            slot_or_dash(m.commit_slot),
            slot_or_dash(m.reveal_slot),
            m.tokens_in,
            m.tokens_out,
            m.reward,
            m.slashed
        );
    }
    let rc = &r.receipt;
    let _ = writeln!(
        s,
        "receipt   agreement {}/{}  tokens in {} out {}  latency {} slots  fee {} (price {}/token, {} per 1k)  \
         ≈{:.2e} FLOPs ({} params)",
        rc.agreement_count,
        rc.committee_size,
        rc.tokens_in,
        rc.tokens_out,
        rc.latency_slots,
        rc.fee_paid,
        rc.price_per_token,
        rc.price_per_token.saturating_mul(1000),
        rc.approx_flops as f64,
        rc.param_count
    );
    let _ = writeln!(
        s,
        "fee split royalty {}  protocol {}  rewards {} (claimed {})  winning hash {}",
        r.royalty_paid,
        r.protocol_fee_paid,
        r.rewards_total,
        r.rewards_claimed,
        hex::encode(r.winning_hash)
    );
    if let Some(o) = output {
        let _ = writeln!(
            s,
            "output    ({} bytes, complete {}) {:?}",
            o.data.len(),
            o.complete,
            String::from_utf8_lossy(&o.data)
        );
    }
    s
}

/// `greedy`, or `temperature T, top-p P, seed S` (T and P from milli-units).
pub fn sampling_label(s: &Sampling) -> String {
    if s.temperature_milli == 0 {
        "greedy".into()
    } else {
        let (t, p) = (f64::from(s.temperature_milli) / 1e3, f64::from(s.top_p_milli) / 1e3);
        format!("temperature {t:.3}, top-p {p:.3}, seed {}", s.seed)
    }
}
