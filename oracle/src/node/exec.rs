//! Executing the state machine's steps: each builds its instruction with `chain::ix`, sends it through the
//! retrying sender, and records local progress in the store. "Someone already did it" answers from the program
//! (AlreadyCommitted, RequestNotPending, AlreadyFinalized, ...) count as success: the chain is the truth.
use {
    super::{plan::Action, Node},
    crate::{
        chain::{ix, pda, prompt::RequestPrompt, ChainClient, ChainError},
        store::{Job, Phase},
    },
    anchor_lang::prelude::Pubkey,
    rand::RngCore,
    std::sync::Arc,
    verity::{
        state::{Config, Dispute, Outcome, Request, RequestStatus},
        RevealArgs, VerityError, WriteOutputArgs,
    },
};

/// Which commit-reveal round of a request a step belongs to: the first committee's (keyed by the Request) or the
/// 2k+1 second round's (keyed by the Dispute account: job id, commitment binding, instructions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Round {
    First,
    Second,
}

impl Round {
    /// The address the round's job and commitment are bound to.
    pub fn key(self, request: &Pubkey) -> Pubkey {
        match self {
            Round::First => *request,
            Round::Second => pda::dispute(request),
        }
    }
}

/// Bytes already written to the request's Output account and whether it is complete.
pub async fn output_written(chain: &ChainClient, request: &Pubkey) -> Result<(usize, bool), ChainError> {
    let out: verity::state::Output = chain.account(&pda::output(request), "Output").await?;
    Ok((out.data.len(), out.complete))
}

/// The most bytes a transaction may have on the wire.
const PACKET_BYTES: usize = 1232;

/// Wire size of a transaction of `ixn` paid and signed by `payer` alone.
fn tx_size(ixn: &solana_instruction::Instruction, payer: &Pubkey) -> usize {
    let msg = solana_transaction::Transaction::new_with_payer(std::slice::from_ref(ixn), Some(payer)).message;
    1 + 64 * usize::from(msg.header.num_required_signatures) + msg.serialize().len()
}

/// Treats the listed program errors as "already done".
fn ok_if(res: Result<solana_signature::Signature, ChainError>, done: &[VerityError]) -> anyhow::Result<bool> {
    match res {
        Ok(_) => Ok(true),
        Err(e) if done.iter().any(|d| e.is(*d)) => {
            tracing::debug!("already done: {e}");
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

impl Node {
    /// Runs one step of a request's round: the first (`d` = None) or the second (`d` = its Dispute account).
    pub(super) async fn execute(
        self: Arc<Self>,
        action: Action,
        key: Pubkey,
        req: Request,
        d: Option<Dispute>,
        config: Config,
    ) -> anyhow::Result<()> {
        let me = self.authority();
        let round = if d.is_some() { Round::Second } else { Round::First };
        let id = round.key(&key).to_string();
        let second = |what: &str| anyhow::anyhow!("{action:?} needs the request's Dispute account ({what})");
        match action {
            Action::Wait => Ok(()),
            Action::Assign => {
                let res = self.chain.send("assign", &[ix::assign(&key)], &self.keypair).await;
                let quiet = [VerityError::RequestNotPending, VerityError::SlotHashNotYetAvailable];
                if ok_if(res, &quiet)? {
                    tracing::info!(request = %key, "assigned committee");
                }
                Ok(())
            }
            Action::Expire => {
                let res = self.chain.send("expire", &[ix::expire(&key, &req.requester)], &self.keypair).await;
                ok_if(res, &[VerityError::RequestNotPending]).map(drop)
            }
            Action::Infer => self.infer_and_commit(key, &req, round).await,
            Action::Commit => self.commit(key, round).await,
            Action::Reveal => self.reveal(key, &req, &config, round).await,
            Action::WriteOutput => self.write_output(key, round).await,
            Action::OpenEscalation => {
                let res = self.chain.send("open_dispute", &[ix::open_dispute(&me, &key)], &self.keypair).await;
                if ok_if(res, &[VerityError::AlreadyDisputed])? {
                    tracing::info!(request = %key, "opened the escalation round");
                }
                Ok(())
            }
            Action::Finalize => {
                let res = self.chain.send("finalize", &[ix::finalize(&config, &key, &req)], &self.keypair).await;
                if ok_if(res, &[VerityError::AlreadyFinalized])? {
                    tracing::info!(request = %key, "finalized");
                }
                Ok(())
            }
            Action::Claim(members) => self.claim_all(vec![(key, members)]).await,
            Action::AssignDispute => {
                let res = self.chain.send("assign_dispute", &[ix::assign_dispute(&key)], &self.keypair).await;
                let quiet = [
                    VerityError::DisputeNotOpen,
                    VerityError::SlotHashNotYetAvailable,
                    VerityError::NotEnoughOperators,
                ];
                if ok_if(res, &quiet)? {
                    tracing::info!(request = %key, "second-round committee drawn");
                }
                Ok(())
            }
            Action::ResolveDispute => {
                let d = d.as_ref().ok_or_else(|| second("resolve"))?;
                let res = self
                    .chain
                    .send("resolve_dispute", &[ix::resolve_dispute(&config, &key, &req, d)], &self.keypair)
                    .await;
                if ok_if(res, &[VerityError::DisputeAlreadyResolved])? {
                    tracing::info!(request = %key, "second round resolved");
                }
                Ok(())
            }
            Action::ClaimDispute => {
                let ixn = ix::claim_dispute_reward(&key, &me);
                let res = self.chain.send("claim_dispute_reward", &[ixn], &self.keypair).await;
                if ok_if(res, &[VerityError::AlreadyClaimed, VerityError::NothingToClaim])? {
                    tracing::info!(request = %key, "second-round reward claimed");
                }
                Ok(())
            }
            Action::CloseDispute => {
                let opener = d.as_ref().ok_or_else(|| second("close"))?.opener;
                let res = self.chain.send("close_dispute", &[ix::close_dispute(&key, &opener)], &self.keypair).await;
                ok_if(res, &[])?;
                tracing::info!(request = %key, "dispute account closed");
                self.finish_round(&id, "")
            }
            Action::Lost(why) => {
                tracing::error!(account = %id, "{why}");
                self.finish_job(&id, &req, round, why)
            }
            Action::Done => self.finish_job(&id, &req, round, ""),
        }
    }

    /// Marks the job of `round` done locally (the first round's also counts a finalized request / a slash).
    fn finish_job(&self, id: &str, req: &Request, round: Round, note: &str) -> anyhow::Result<()> {
        match round {
            Round::First => self.finish(id, req, note),
            Round::Second => self.finish_round(id, note),
        }
    }

    /// Marks a job done locally (for a second round: its slashes show in the request's events and books).
    fn finish_round(&self, id: &str, note: &str) -> anyhow::Result<()> {
        let mut job = self.store.get(id)?.unwrap_or_else(|| Job::empty(id));
        job.phase = Phase::Done;
        if !note.is_empty() {
            job.note = note.to_string();
        }
        self.metrics.job_state(id, "done");
        self.store.put(&job)
    }

    /// Marks the request done locally and counts a finalized request / a slash of this node.
    fn finish(&self, id: &str, req: &Request, note: &str) -> anyhow::Result<()> {
        let me = self.authority();
        if let Some(m) = req.committee.members.iter().find(|m| m.operator == me) {
            if m.slashed > 0 {
                tracing::warn!(request = %id, amount = m.slashed, outcome = ?m.outcome, "this node was slashed");
                self.metrics.slashed(m.slashed);
            }
            if req.status == RequestStatus::Finalized && m.outcome == Outcome::Agreed {
                self.metrics.finalized();
            }
        }
        self.finish_round(id, note)
    }

    /// Runs the model, stores output + hash + salt durably, then commits. A hash + URI prompt this node cannot
    /// verify gets the protocol's [`verity::PROMPT_UNAVAILABLE`] output instead (no inference).
    async fn infer_and_commit(self: Arc<Self>, key: Pubkey, req: &Request, round: Round) -> anyhow::Result<()> {
        let id = round.key(&key).to_string();
        let give_up = |why: &str| self.finish_job(&id, req, round, why);
        let prompt = match crate::chain::prompt::of_request(&self.chain, &key, req).await? {
            RequestPrompt::Bytes(p) => Ok(p),
            RequestPrompt::Uri => self.fetch_uri_prompt(&id, req).await?,
            RequestPrompt::Unusable(why) => {
                tracing::warn!(request = %id, "prompt account unusable: {why}");
                return give_up(&format!("prompt account unusable: {why}"));
            }
        };
        let (text, tokens_in, tokens_out, note) = match prompt {
            Ok(prompt) => {
                let _slot = self.infer_slots.acquire().await?;
                self.metrics.job_state(&id, "inferring");
                match self.engine.infer(req.profile_hash, inference_request(&key, req, prompt)).await {
                    Ok(o) => {
                        self.metrics.inference(u64::from(o.tokens_out), o.secs);
                        (o.text, o.tokens_in, o.tokens_out.min(req.max_tokens), String::new())
                    }
                    Err(e) => {
                        tracing::warn!(request = %id, "inference failed: {e:#}");
                        return give_up(&format!("inference failed: {e:#}"));
                    }
                }
            }
            Err(why) => (verity::PROMPT_UNAVAILABLE.to_string(), 0, 0, why),
        };
        let hash = verity_client::hash::output_hash(&req.profile_hash, &text);
        let mut salt = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut salt);
        let job = Job {
            request: id.clone(),
            phase: Phase::Inferred,
            output: text,
            output_hash: hex::encode(hash),
            salt: hex::encode(salt),
            tokens_in,
            tokens_out,
            note,
        };
        self.store.put(&job)?; // durable BEFORE the commit is sent
        tracing::info!(request = %key, ?round, tokens = job.tokens_out, "inferred; output stored");
        self.commit(key, round).await
    }

    /// The request's hash + URI prompt (`Ok(Ok(bytes))`), or why it is unusable (`Ok(Err(why))`: the URI fails
    /// after its retries, serves other bytes, or more than the model's `max_input_bytes`). RPC errors: `Err`.
    async fn fetch_uri_prompt(&self, id: &str, req: &Request) -> anyhow::Result<Result<Vec<u8>, String>> {
        let model: verity::state::Model = self.chain.account(&req.model, "Model").await?;
        let max = model.max_input_bytes.min(verity::MAX_LONG_PROMPT_BYTES) as usize;
        let tries = crate::defaults::PROMPT_FETCH_TRIES;
        let fetched = self.fetcher.fetch_retrying(&req.prompt_uri, &req.prompt_hash, max, tries).await;
        self.metrics.prompt_fetch(fetched.is_ok());
        Ok(fetched.map_err(|e| {
            tracing::warn!(request = %id, uri = %req.prompt_uri, "URI prompt unusable, committing PROMPT_UNAVAILABLE: {e}");
            format!("URI prompt unusable: {e}")
        }))
    }

    async fn commit(&self, key: Pubkey, round: Round) -> anyhow::Result<()> {
        let bound = round.key(&key);
        let id = bound.to_string();
        let me = self.authority();
        let job = self.store.get(&id)?.ok_or_else(|| anyhow::anyhow!("no stored job"))?;
        let commitment = verity::logic::commitment_hash(&bound, &me, &job.output_hash_bytes()?, &job.salt_bytes()?);
        let ixn = match round {
            Round::First => ix::commit(&me, &key, commitment),
            Round::Second => ix::commit_dispute(&me, &key, commitment),
        };
        let res = self.chain.send("commit", &[ixn], &self.keypair).await;
        if ok_if(res, &[VerityError::AlreadyCommitted])? {
            tracing::info!(request = %key, ?round, "committed");
        }
        self.store.set_phase(&id, Phase::Committed)
    }

    /// Reveals. In the first round with `reveal_and_finalize`, carrying the answer when it fits one transaction:
    /// if this is the last reveal, the request is settled and its output stored in the same transaction. Should
    /// that fail, the plain reveal is sent (the settlement is then another crank's).
    async fn reveal(&self, key: Pubkey, req: &Request, config: &Config, round: Round) -> anyhow::Result<()> {
        let id = round.key(&key).to_string();
        let me = self.authority();
        let job = self.store.get(&id)?.ok_or_else(|| anyhow::anyhow!("no stored job"))?;
        let args = RevealArgs {
            output_hash: job.output_hash_bytes()?,
            salt: job.salt_bytes()?,
            tokens_in: job.tokens_in,
            tokens_out: job.tokens_out,
        };
        let done = [VerityError::AlreadyRevealed];
        let plain = match round {
            Round::First => ix::reveal(&me, &key, args),
            Round::Second => ix::reveal_dispute(&me, &key, args),
        };
        let res = match round {
            Round::First => {
                let bytes = job.output.as_bytes();
                let fits = bytes.len() <= crate::defaults::REVEAL_OUTPUT_MAX.min(req.output_capacity as usize);
                let mut fused = ix::reveal_and_finalize(&me, config, &key, req, args, bytes.to_vec());
                if !fits || tx_size(&fused, &me) > PACKET_BYTES {
                    fused = ix::reveal_and_finalize(&me, config, &key, req, args, Vec::new());
                }
                match self.chain.send("reveal_and_finalize", &[fused], &self.keypair).await {
                    Err(e) if !done.iter().any(|d| e.is(*d)) => {
                        tracing::warn!(request = %key, "reveal_and_finalize failed ({e}); sending the plain reveal");
                        self.chain.send("reveal", &[plain], &self.keypair).await
                    }
                    res => res,
                }
            }
            Round::Second => self.chain.send("reveal", &[plain], &self.keypair).await,
        };
        if ok_if(res, &done)? {
            tracing::info!(request = %key, ?round, "revealed");
        }
        self.store.set_phase(&id, Phase::Revealed)
    }

    /// Claims the rewards of `claims` (request, member authorities): [`CLAIMS_PER_TX`](crate::defaults::CLAIMS_PER_TX)
    /// `claim_reward` instructions per transaction. A transaction that fails on chain (one claim already made by
    /// someone else, or locked again by a challenge) is retried one claim at a time.
    pub(super) async fn claim_all(&self, claims: Vec<(Pubkey, Vec<Pubkey>)>) -> anyhow::Result<()> {
        let quiet = [VerityError::AlreadyClaimed, VerityError::NothingToClaim, VerityError::RewardsLocked];
        let all: Vec<(Pubkey, Pubkey)> =
            claims.iter().flat_map(|(req, members)| members.iter().map(move |m| (*req, *m))).collect();
        for chunk in all.chunks(crate::defaults::CLAIMS_PER_TX) {
            let ixs: Vec<_> = chunk.iter().map(|(req, m)| ix::claim(req, m)).collect();
            match self.chain.send("claim_reward", &ixs, &self.keypair).await {
                Ok(_) => tracing::info!(claims = chunk.len(), "rewards claimed"),
                Err(e) if e.program_code().is_some() && chunk.len() > 1 => {
                    tracing::debug!("batch claim failed ({e}); one at a time");
                    for (req, m) in chunk {
                        ok_if(self.chain.send("claim_reward", &[ix::claim(req, m)], &self.keypair).await, &quiet)?;
                    }
                }
                res => {
                    ok_if(res, &quiet)?;
                }
            }
        }
        Ok(())
    }

    /// Writes the stored output into the Output account in chunks, resuming after what is already there.
    async fn write_output(&self, key: Pubkey, round: Round) -> anyhow::Result<()> {
        let id = round.key(&key).to_string();
        let me = self.authority();
        let job = self.store.get(&id)?.ok_or_else(|| anyhow::anyhow!("no stored job"))?;
        let bytes = job.output.as_bytes();
        let out: verity::state::Output = self.chain.account(&pda::output(&key), "Output").await?;
        if bytes.len() > out.capacity as usize {
            tracing::warn!(request = %id, len = bytes.len(), cap = out.capacity, "output exceeds capacity; not stored");
            return self.store.set_phase(&id, Phase::Done);
        }
        let total_len = u32::try_from(bytes.len())?;
        let mut offset = out.data.len().min(bytes.len());
        loop {
            let end = (offset + self.opts.chunk).min(bytes.len());
            let args = WriteOutputArgs { offset: u32::try_from(offset)?, total_len, data: bytes[offset..end].to_vec() };
            let ixn = match round {
                Round::First => ix::write_output(&me, &key, args),
                Round::Second => ix::write_output_second_round(&me, &key, args),
            };
            let res = self.chain.send("write_output", &[ixn], &self.keypair).await;
            if !ok_if(res, &[VerityError::OutputAlreadyComplete])? {
                return Ok(());
            }
            offset = end;
            if offset >= bytes.len() {
                tracing::info!(request = %id, bytes = bytes.len(), "output written on chain");
                return Ok(());
            }
        }
    }
}

/// What the engine runs for a request: `prompt` (its bytes: inline, or from its Prompt account), its max_tokens
/// and sampling, the RNG stream being the first 8 bytes of the Request address, little-endian (oracle/NUMERICS.md
/// §7).
pub fn inference_request(key: &Pubkey, req: &Request, prompt: Vec<u8>) -> crate::inference::Request {
    let b = key.to_bytes();
    let stream = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    let s = req.sampling;
    crate::inference::Request {
        prompt,
        max_tokens: req.max_tokens,
        sampling: verity_exact::sample::Sampling {
            temperature_milli: s.temperature_milli,
            top_p_milli: s.top_p_milli,
            seed: s.seed,
        },
        stream,
    }
}
