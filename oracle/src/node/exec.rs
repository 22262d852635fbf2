//! Executing the state machine's steps: each builds its instruction with `chain::ix`, sends it through the
//! retrying sender, and records local progress in the store. "Someone already did it" answers from the program
//! (AlreadyCommitted, RequestNotPending, AlreadyFinalized, ...) count as success: the chain is the truth.
use {
    super::{plan::Action, Node},
    crate::{
        chain::{ix, pda, ChainClient, ChainError},
        store::{Job, Phase},
    },
    anchor_lang::prelude::Pubkey,
    rand::RngCore,
    std::sync::Arc,
    verity::{
        state::{Config, Outcome, Request, RequestStatus},
        RevealArgs, VerityError, WriteOutputArgs,
    },
};

/// Bytes already written to the request's Output account and whether it is complete.
pub async fn output_written(chain: &ChainClient, request: &Pubkey) -> Result<(usize, bool), ChainError> {
    let out: verity::state::Output = chain.account(&pda::output(request), "Output").await?;
    Ok((out.data.len(), out.complete))
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
    pub(super) async fn execute(self: Arc<Self>, action: Action, key: Pubkey, req: Request, config: Config)
        -> anyhow::Result<()> {
        let me = self.authority();
        let id = key.to_string();
        match action {
            Action::Wait => Ok(()),
            Action::Assign => {
                let res = self.chain.send("assign", &[ix::assign(&key)], &self.keypair).await;
                let quiet = [VerityError::RequestNotPending, VerityError::SlotHashNotYetAvailable];
                if ok_if(res, &quiet)? {
                    tracing::info!(request = %id, "assigned committee");
                }
                Ok(())
            }
            Action::Expire => {
                let res = self.chain.send("expire", &[ix::expire(&key, &req.requester)], &self.keypair).await;
                ok_if(res, &[VerityError::RequestNotPending]).map(drop)
            }
            Action::Infer => self.infer_and_commit(key, &req).await,
            Action::Commit => self.commit(key).await,
            Action::Reveal => {
                let job = self.store.get(&id)?.ok_or_else(|| anyhow::anyhow!("no stored job"))?;
                let args = RevealArgs {
                    output_hash: job.output_hash_bytes()?,
                    salt: job.salt_bytes()?,
                    tokens_in: job.tokens_in,
                    tokens_out: job.tokens_out,
                };
                let res = self.chain.send("reveal", &[ix::reveal(&me, &key, args)], &self.keypair).await;
                if ok_if(res, &[VerityError::AlreadyRevealed])? {
                    tracing::info!(request = %id, "revealed");
                }
                self.store.set_phase(&id, Phase::Revealed)
            }
            Action::Finalize => {
                let res = self.chain.send("finalize", &[ix::finalize(&config, &key, &req)], &self.keypair).await;
                if ok_if(res, &[VerityError::AlreadyFinalized])? {
                    tracing::info!(request = %id, "finalized");
                }
                Ok(())
            }
            Action::WriteOutput => self.write_output(key).await,
            Action::Claim => {
                let res = self.chain.send("claim", &[ix::claim(&key, &me)], &self.keypair).await;
                if ok_if(res, &[VerityError::AlreadyClaimed, VerityError::NothingToClaim])? {
                    tracing::info!(request = %id, "reward claimed");
                }
                Ok(())
            }
            Action::Lost(why) => {
                tracing::error!(request = %id, "{why}");
                self.finish(&id, &req, why)
            }
            Action::Done => self.finish(&id, &req, ""),
        }
    }

    /// Marks the request done locally and counts a finalized request / a slash of this node.
    fn finish(&self, id: &str, req: &Request, note: &str) -> anyhow::Result<()> {
        let me = self.authority();
        if let Some(m) = req.members.iter().find(|m| m.operator == me) {
            if m.slashed > 0 {
                tracing::warn!(request = %id, amount = m.slashed, outcome = ?m.outcome, "this node was slashed");
                self.metrics.slashed(m.slashed);
            }
            if req.status == RequestStatus::Finalized && m.outcome == Outcome::Agreed {
                self.metrics.finalized();
            }
        }
        let mut job = self.store.get(id)?.unwrap_or_else(|| Job {
            request: id.to_string(),
            phase: Phase::Done,
            output: String::new(),
            output_hash: String::new(),
            salt: String::new(),
            tokens_in: 0,
            tokens_out: 0,
            note: String::new(),
        });
        job.phase = Phase::Done;
        if !note.is_empty() {
            job.note = note.to_string();
        }
        self.metrics.job_state(id, "done");
        self.store.put(&job)
    }

    /// Runs the model, stores output + hash + salt durably, then commits.
    async fn infer_and_commit(self: Arc<Self>, key: Pubkey, req: &Request) -> anyhow::Result<()> {
        let id = key.to_string();
        if req.prompt.is_empty() {
            return self.finish(&id, req, "external (URI) prompts are not fetched by this node");
        }
        let out = {
            let _slot = self.infer_slots.acquire().await?;
            self.metrics.job_state(&id, "inferring");
            match self.engine.infer(req.prompt.clone(), req.max_tokens).await {
                Ok(o) => o,
                Err(e) => {
                    tracing::warn!(request = %id, "inference failed: {e:#}");
                    return self.finish(&id, req, &format!("inference failed: {e:#}"));
                }
            }
        };
        self.metrics.inference(u64::from(out.tokens_out), out.secs);
        let hash = verity::logic::output_hash(&req.profile_hash, out.text.as_bytes());
        let mut salt = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut salt);
        let job = Job {
            request: id.clone(),
            phase: Phase::Inferred,
            output: out.text,
            output_hash: hex::encode(hash),
            salt: hex::encode(salt),
            tokens_in: out.tokens_in,
            tokens_out: out.tokens_out.min(req.max_tokens),
            note: String::new(),
        };
        self.store.put(&job)?; // durable BEFORE the commit is sent
        tracing::info!(request = %id, tokens = job.tokens_out, "inferred; output stored");
        self.commit(key).await
    }

    async fn commit(&self, key: Pubkey) -> anyhow::Result<()> {
        let id = key.to_string();
        let me = self.authority();
        let job = self.store.get(&id)?.ok_or_else(|| anyhow::anyhow!("no stored job"))?;
        let commitment = verity::logic::commitment_hash(&key, &me, &job.output_hash_bytes()?, &job.salt_bytes()?);
        let res = self.chain.send("commit", &[ix::commit(&me, &key, commitment)], &self.keypair).await;
        if ok_if(res, &[VerityError::AlreadyCommitted])? {
            tracing::info!(request = %id, "committed");
        }
        self.store.set_phase(&id, Phase::Committed)
    }

    /// Writes the stored output into the Output account in chunks, resuming after what is already there.
    async fn write_output(&self, key: Pubkey) -> anyhow::Result<()> {
        let id = key.to_string();
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
            let res = self.chain.send("write_output", &[ix::write_output(&me, &key, args)], &self.keypair).await;
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
