//! The oracle node: watches the program's requests (websocket wake-ups + polling), decides each request's next
//! step with [`plan::next`] from on-chain state and the durable store, and runs the steps as tasks (at most one
//! per request at a time; inference bounded by the configured concurrency). `cluster` (feature `localnet`) runs a
//! local validator and N nodes in one process for `verity localnet`, `demo`, `bench e2e` and the node tests.
#[cfg(feature = "localnet")]
pub mod cluster;
pub mod engine;
mod exec;
pub use exec::inference_request;
pub mod plan;
#[cfg(test)]
mod plan_tests;
pub mod prompt_fetch;

use {
    crate::{chain::ChainClient, defaults, metrics::Metrics, store::Store},
    anchor_lang::prelude::Pubkey,
    engine::Infer,
    solana_keypair::Keypair,
    solana_signer::Signer,
    std::{
        collections::HashSet,
        sync::{Arc, Mutex},
        time::Duration,
    },
    tokio::sync::{Notify, Semaphore},
};

/// Node settings (see `config` for the file/env form).
#[derive(Clone, Debug)]
pub struct NodeOptions {
    /// Polling interval (the fallback when no websocket notification arrives).
    pub poll: Duration,
    /// Inferences run at once.
    pub concurrency: usize,
    /// Websocket URL for program-account notifications (None: polling only).
    pub ws_url: Option<String>,
    /// Output bytes per `write_output` transaction.
    pub chunk: usize,
    /// How hash + URI prompts are fetched.
    pub fetch: prompt_fetch::FetchOptions,
}

impl Default for NodeOptions {
    fn default() -> Self {
        NodeOptions {
            poll: defaults::POLL,
            concurrency: defaults::CONCURRENCY,
            ws_url: None,
            chunk: defaults::OUTPUT_CHUNK,
            fetch: prompt_fetch::FetchOptions::default(),
        }
    }
}

/// A running node's shared state.
pub struct Node {
    pub chain: ChainClient,
    pub store: Store,
    pub engine: Arc<dyn Infer>,
    pub keypair: Keypair,
    pub metrics: Metrics,
    pub opts: NodeOptions,
    fetcher: prompt_fetch::PromptFetcher,
    in_flight: Mutex<HashSet<Pubkey>>,
    infer_slots: Semaphore,
    /// Signalled when a step task ends: its request may have a next step at once (the account change that
    /// allows it may have woken a tick that skipped the request while the step was in flight).
    step_done: Notify,
}

impl Node {
    pub fn new(
        chain: ChainClient,
        store: Store,
        engine: Arc<dyn Infer>,
        keypair: Keypair,
        opts: NodeOptions,
    ) -> anyhow::Result<Node> {
        let metrics = chain.metrics.clone();
        let infer_slots = Semaphore::new(opts.concurrency.max(1));
        let (in_flight, step_done) = (Mutex::default(), Notify::new());
        let fetcher = prompt_fetch::PromptFetcher::new(opts.fetch.clone())?;
        Ok(Node { chain, store, engine, keypair, metrics, opts, fetcher, in_flight, infer_slots, step_done })
    }

    pub fn authority(&self) -> Pubkey {
        self.keypair.pubkey()
    }

    /// Runs until the returned future is dropped (all step tasks are aborted with it).
    pub async fn run(self: Arc<Self>) {
        let wake = Arc::new(Notify::new());
        let _watch = self.opts.ws_url.clone().map(|url| AbortOnDrop(crate::chain::watch::spawn(url, wake.clone())));
        let mut tasks = tokio::task::JoinSet::new();
        tracing::info!(authority = %self.authority(), "node started");
        loop {
            let waiting_for_slot = match self.clone().tick(&mut tasks).await {
                Ok(w) => w,
                Err(e) => {
                    tracing::warn!("tick: {e:#}");
                    false
                }
            };
            while tasks.try_join_next().is_some() {}
            // A step whose turn comes with a slot (the assign crank order) changes no account to wake us: poll
            // faster until it is taken.
            let poll = if waiting_for_slot { self.opts.poll.min(defaults::SLOT_POLL) } else { self.opts.poll };
            tokio::select! {
                _ = wake.notified() => tokio::time::sleep(defaults::WAKE_DEBOUNCE).await,
                _ = self.step_done.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// One pass over every request: decide and start the next step of each one not already busy. Returns whether
    /// a request this node serves is waiting for its assign turn (a slot, not an account change, starts it).
    async fn tick(self: Arc<Self>, tasks: &mut tokio::task::JoinSet<()>) -> anyhow::Result<bool> {
        let now = self.chain.slot().await?;
        let config: verity::state::Config = self.chain.account(&crate::chain::pda::config(), "Config").await?;
        let me = self.authority();
        let served = match self.chain.account_data(&crate::chain::pda::operator(&me)).await? {
            Some(d) => {
                crate::chain::decode::<verity::state::Operator>(&crate::chain::pda::operator(&me), &d, "Operator")?
                    .served_models
            }
            None => 0,
        };
        let requests = self.chain.program_accounts::<verity::state::Request>("Request").await?;
        let profiles = self.engine.profiles();
        let serves = |req: &verity::state::Request| {
            profiles.contains(&req.profile_hash) && verity_client::models::serves(served, req.model_index)
        };
        // Second rounds (escalations and challenges) first: each Dispute account, with its request; then every
        // request (its first round and what follows). One loop drives both kinds of round.
        let disputes = self.chain.program_accounts::<verity::state::Dispute>("Dispute").await?;
        let mut targets: Vec<Target> = disputes
            .into_iter()
            .filter_map(|(address, d)| {
                let (key, req) = requests.iter().find(|(k, _)| *k == d.request).cloned()?;
                Some(Target { address, key, req, dispute: Some(Box::new(d)) })
            })
            .collect();
        targets.extend(requests.into_iter().map(|(key, req)| Target { address: key, key, req, dispute: None }));
        // The assign crank order is over the request's draw pool (the program's own eligibility rule, values in
        // force at the submit slot): read the registry only when a request is Pending.
        let pending = targets.iter().any(|t| t.req.status == verity::state::RequestStatus::Pending);
        let registry = if pending {
            let key = crate::chain::pda::registry();
            Some(self.chain.account::<verity::state::OperatorRegistry>(&key, "OperatorRegistry").await?)
        } else {
            None
        };
        let crank_rank = |req: &verity::state::Request, key: &Pubkey| {
            let (Some(reg), Some(bit)) = (&registry, verity_client::models::bit(req.model_index)) else { return 0 };
            if req.status != verity::state::RequestStatus::Pending {
                return 0;
            }
            let candidates: Vec<Pubkey> = reg
                .entries
                .iter()
                .filter(|e| e.values_at(req.submit_slot).eligible(bit, req.terms.min_stake))
                .map(|e| e.authority)
                .collect();
            plan::crank_rank(key, &me, &candidates)
        };
        // Claims of every request are gathered and sent together, a few per transaction.
        let mut claims: Vec<(Pubkey, Vec<Pubkey>)> = Vec::new();
        let mut waiting_for_slot = false;
        for t in targets {
            if self.in_flight.lock().map(|s| s.contains(&t.address)).unwrap_or(true) {
                continue;
            }
            let id = t.address.to_string();
            let job = self.store.get(&id)?;
            if job.as_ref().is_some_and(|j| j.phase == crate::store::Phase::Done) {
                continue;
            }
            let output_complete = if t.req.status == verity::state::RequestStatus::Finalized {
                exec::output_written(&self.chain, &t.key).await?.1
            } else {
                false
            };
            let view = plan::View {
                req: &t.req,
                me: &me,
                now,
                params: &config.params,
                job: job.as_ref(),
                serves: serves(&t.req),
                output_complete,
                crank_rank: crank_rank(&t.req, &t.key),
            };
            let action = match &t.dispute {
                None => plan::next(&view),
                Some(d) => plan::next_dispute(d, &view),
            };
            if action == plan::Action::Wait {
                waiting_for_slot |= view.serves && t.req.status == verity::state::RequestStatus::Pending;
                continue;
            }
            if let plan::Action::Claim(members) = action {
                claims.push((t.key, members));
                continue;
            }
            if let Ok(mut s) = self.in_flight.lock() {
                s.insert(t.address);
            }
            let node = self.clone();
            let config = config.clone();
            tasks.spawn(async move {
                let label = format!("{action:?}");
                node.metrics.job_state(&id, &label.to_lowercase());
                let address = t.address;
                let res = node.clone().execute(action, t.key, t.req, t.dispute.map(|d| *d), config).await;
                if let Err(e) = res {
                    tracing::warn!(account = %id, step = %label, "{e:#}");
                }
                node.step_ended(&[address]);
            });
        }
        if !claims.is_empty() {
            if let Ok(mut s) = self.in_flight.lock() {
                s.extend(claims.iter().map(|(k, _)| *k));
            }
            let node = self.clone();
            tasks.spawn(async move {
                let keys: Vec<Pubkey> = claims.iter().map(|(k, _)| *k).collect();
                if let Err(e) = node.claim_all(claims).await {
                    tracing::warn!(step = "claim", "{e:#}");
                }
                node.step_ended(&keys);
            });
        }
        Ok(waiting_for_slot)
    }

    /// A step task on `keys` ended: they are free for the next tick, which runs at once.
    fn step_ended(&self, keys: &[Pubkey]) {
        if let Ok(mut s) = self.in_flight.lock() {
            for k in keys {
                s.remove(k);
            }
        }
        self.step_done.notify_one();
    }
}

/// One account the node drives: a request (`dispute: None`; its first round and what follows) or a request's
/// second round (`address` = the Dispute account).
struct Target {
    /// The job / in-flight key: the Request, or the Dispute.
    address: Pubkey,
    key: Pubkey,
    req: verity::state::Request,
    dispute: Option<Box<verity::state::Dispute>>,
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
