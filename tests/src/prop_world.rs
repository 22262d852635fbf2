//! The randomized world of the conservation property test: one long-lived bank with seeded operators,
//! requesters and models, and the request actions up to settlement (submit, assign, commit, reveal, finalize)
//! that a seeded PRNG drives with honest and faulty committee members. The settlement-side actions, operator
//! churn, the step mix and the end of a sequence are in `prop_settle`.
use {
    crate::{
        conservation::Ledger,
        fixture::{default_model_params, Protocol},
        model_check::{self as mc, Rng},
        pda, submit_args,
    },
    anchor_lang::prelude::Pubkey,
    solana_instruction::Instruction,
    solana_keypair::Keypair,
    solana_signer::Signer,
    std::collections::BTreeMap,
    verity::{
        state::{MemberState, Request, RequestStatus},
        ConfigParams, ModelParams, RevealArgs,
    },
};

pub const ANSWER: &str = "The agreed answer.";
pub const LIE: &str = "A coordinated lie.";

/// Operators of the world; the last one serves model 1 only.
pub const OPERATORS: usize = 16;

/// Served-models bitmap of world operator `i`: the first 4 also serve the scarce model 2, the last model 1 only.
pub fn served_by(i: usize) -> u64 {
    match i {
        0..=3 => 0b111,
        _ if i == OPERATORS - 1 => 0b010,
        _ => 0b011,
    }
}

/// How a committee member behaves on one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    Honest,
    Liar,
    /// Commits the answer, never reveals.
    NoReveal,
    /// Never commits.
    Silent,
    /// Commits another member's commitment bytes and tries to reveal that member's opening.
    Copier,
}

/// A request of the current sequence and its members' behaviours (set at assignment).
pub struct Live {
    pub key: Pubkey,
    pub requester: usize,
    pub plan: Vec<Behaviour>,
    /// Behaviours of the dispute/escalation round's members (set at its assignment).
    pub dplan: Vec<Behaviour>,
}

pub struct World {
    pub p: Protocol,
    pub rng: Rng,
    pub master: u64,
    pub requesters: Vec<Keypair>,
    /// Open disputes (bond + Dispute rent) and escalations (rent).
    pub challengers: Vec<Keypair>,
    pub nonce: u64,
    pub live: Vec<Live>,
    pub ledger: Ledger,
    /// "action ok" / "action err <code>" → count.
    pub stats: BTreeMap<String, u64>,
    /// Steps of the current sequence (printed on failure).
    pub log: Vec<String>,
    /// Index of the current sequence.
    pub seq: u64,
    /// Time spent in conservation checks, in warps, in transactions.
    pub check_time: std::time::Duration,
    pub warp_time: std::time::Duration,
    pub send_time: std::time::Duration,
    pub warps: u64,
    pub seed_waits: u64,
}

/// Protocol parameters of the property world: short windows so deadlines pass often.
pub fn world_params() -> ConfigParams {
    ConfigParams {
        protocol_fee_bps: 500,
        slash_bps: 1_000,
        slash_treasury_bps: 3_333,
        committee_size: 3,
        assign_window: 8,
        commit_window: 6,
        reveal_window: 6,
        dispute_window: 4,
        unbonding_slots: 10,
        min_stake: 1_000,
        dispute_bond: 1_000_000,
    }
}

fn keypair(master: u64, role: &[u8], i: usize) -> Keypair {
    Keypair::new_from_array(pda::sha256(&[&master.to_le_bytes(), role, &i.to_le_bytes()]))
}

impl World {
    /// A bank with 3 models, 16 operators (random stakes; enough for a 3-member first committee plus a 7-member
    /// second round, not always after churn), 5 requesters and 2 challengers, all keys derived from `master`.
    pub async fn new(master: u64) -> World {
        let mut rng = Rng(master);
        let mut p = Protocol::new(world_params()).await;
        p.add_model(default_model_params()).await;
        let cheap = ModelParams { price_per_token: 7, royalty_bps: 333, ..default_model_params() };
        p.add_model(cheap).await;
        // A scarce model: served by 4 operators only (committees often cannot be drawn, never a second round).
        p.add_model(ModelParams { price_per_token: 3, ..default_model_params() }).await;
        for i in 0..OPERATORS {
            let stake = 5_000 + rng.below(195_000);
            p.add_operator_keyed(keypair(master, b"operator", i), stake, served_by(i)).await;
        }
        p.activate_registry().await;
        let mut requesters = Vec::new();
        for i in 0..5 {
            let k = keypair(master, b"requester", i);
            p.env.fund(&k.pubkey(), 10 * crate::SOL).await;
            requesters.push(k);
        }
        let mut challengers = Vec::new();
        for i in 0..2 {
            let k = keypair(master, b"challenger", i);
            p.env.fund(&k.pubkey(), 100 * crate::SOL).await;
            challengers.push(k);
        }
        let mut ledger = Ledger::default();
        ledger.params = Some(world_params());
        ledger.lamport_keys.extend(challengers.iter().map(|k| k.pubkey()));
        for m in &p.models {
            ledger.lamport_keys.insert(m.owner.pubkey());
        }
        for o in &p.operators {
            ledger.lamport_keys.extend([o.authority.pubkey(), o.pda, o.tokens]);
            ledger.token_keys.insert(o.tokens);
            ledger.operators.push(o.authority.pubkey());
        }
        ledger.lamport_keys.extend(requesters.iter().map(|k| k.pubkey()));
        ledger.lamport_keys.extend([p.treasury, p.treasury_stake, pda::config(), pda::registry(), pda::stake_vault()]);
        ledger.token_keys.extend([p.treasury_stake, pda::stake_vault()]);
        ledger.baseline(&mut p.env).await;
        World {
            p,
            rng,
            master,
            requesters,
            challengers,
            nonce: 1,
            live: Vec::new(),
            ledger,
            stats: BTreeMap::new(),
            log: Vec::new(),
            seq: 0,
            check_time: Default::default(),
            warp_time: Default::default(),
            send_time: Default::default(),
            warps: 0,
            seed_waits: 0,
        }
    }

    /// Sends `ixs`; records the outcome. A failure must be one of Verity's own errors (a rejected bad action),
    /// never a runtime or framework error. Returns whether it succeeded.
    pub async fn send(&mut self, action: &str, ixs: &[Instruction], signers: &[&Keypair]) -> bool {
        let t = std::time::Instant::now();
        let res = self.p.env.send(ixs, signers).await;
        self.send_time += t.elapsed();
        let touched: Vec<Pubkey> =
            ixs.iter().flat_map(|ix| ix.accounts.iter().filter(|m| m.is_writable).map(|m| m.pubkey)).collect();
        self.ledger.refresh(&mut self.p.env, touched).await;
        let outcome = match &res {
            Ok(_) => format!("{action} ok"),
            Err(e) => match e.custom_code() {
                Some(c) if (6000..6100).contains(&c) => format!("{action} err {c}"),
                _ => panic!(
                    "{}: {action} failed outside Verity's errors: {:?}\nlogs: {:#?}",
                    self.repro(),
                    e.err,
                    e.logs
                ),
            },
        };
        self.log.push(outcome.clone());
        *self.stats.entry(outcome).or_default() += 1;
        res.is_ok()
    }

    /// Moves the bank to `slot` (if in the future), timing it.
    pub async fn warp_to(&mut self, slot: u64) {
        if slot > self.p.env.slot().await {
            let t = std::time::Instant::now();
            self.p.env.warp_to(slot).await;
            self.warp_time += t.elapsed();
            self.warps += 1;
        }
    }

    /// How to rerun the failing case.
    pub fn repro(&self) -> String {
        format!(
            "property failure in sequence {} (reproduce: VERITY_PROP_SEED={} VERITY_PROP_SEQS={})",
            self.seq,
            self.master,
            self.seq + 1
        )
    }

    /// The on-chain request of live entry `i`.
    pub async fn request(&mut self, i: usize) -> Request {
        let key = self.live[i].key;
        self.p.request(&key).await
    }

    pub(crate) fn text(b: Behaviour) -> &'static str {
        if b == Behaviour::Liar {
            LIE
        } else {
            ANSWER
        }
    }

    pub(crate) fn salt(key: &Pubkey, member: usize) -> [u8; 32] {
        pda::sha256(&[key.as_ref(), &member.to_le_bytes()])
    }

    /// Authority keypair of the member with authority `who`.
    pub(crate) fn member_key(&self, who: &Pubkey) -> Keypair {
        self.p
            .operators
            .iter()
            .find(|o| o.authority.pubkey() == *who)
            .expect("member is a world operator")
            .authority
            .insecure_clone()
    }

    pub async fn submit(&mut self) {
        if self.live.len() >= 3 {
            return;
        }
        let r = self.rng.below(self.requesters.len() as u64) as usize;
        let model = self.rng.below(3) as usize;
        let max_tokens = 1 + self.rng.below(20) as u32;
        let min_fee = self.p.models[model].params.price_per_token * u64::from(max_tokens);
        // One in ten pays too little (must be refused with FeeTooLow, nothing moves).
        let fee = if self.rng.chance(10) { min_fee.saturating_sub(1) } else { min_fee + self.rng.below(50_000) };
        let nonce = self.nonce;
        self.nonce += 1;
        let requester = self.requesters[r].insecure_clone();
        let key = pda::request(&requester.pubkey(), nonce);
        self.ledger.watch_request(key);
        let ix = self.p.ix_submit(
            &requester.pubkey(),
            &self.p.models[model].key,
            submit_args(nonce, "prompt", max_tokens, fee),
        );
        if self.send("submit", &[ix], &[&requester]).await {
            self.live.push(Live { key, requester: r, plan: Vec::new(), dplan: Vec::new() });
        } else {
            self.ledger.forget_request(&key);
        }
    }

    /// Assigns live request `i`, with the seed slot's hash pinned to a value derived from the master seed so a
    /// sequence reproduces bit for bit (the real slot-hash path is covered by the fairness tests).
    pub async fn assign(&mut self, i: usize) {
        let r = self.request(i).await;
        // The cranker waits until SlotHashes holds a slot after the submit slot (one jump of two slots does).
        for _ in 0..2 {
            if r.status != RequestStatus::Pending
                || mc::seed_entry(&self.p.env.slot_hashes().await, r.submit_slot).is_some()
            {
                break;
            }
            self.log.push("warp +2 (seed)".into());
            let now = self.p.env.slot().await;
            self.warp_to(now + 2).await;
            self.seed_waits += 1;
        }
        if let Some((slot, _)) = mc::seed_entry(&self.p.env.slot_hashes().await, r.submit_slot) {
            let pinned = pda::sha256(&[&self.master.to_le_bytes(), &slot.to_le_bytes()]);
            self.p.env.set_slot_hash(slot, pinned).await;
        }
        let ix = self.p.ix_assign(&self.live[i].key);
        if self.send("assign", &[ix], &[]).await {
            let k = self.request(i).await.committee.members.len();
            self.live[i].plan = self.behaviours(k);
        }
    }

    /// Random behaviours for `k` members: mostly honest, some liars, withholders, silent members and copiers.
    pub fn behaviours(&mut self, k: usize) -> Vec<Behaviour> {
        (0..k)
            .map(|_| match self.rng.below(100) {
                0..=59 => Behaviour::Honest,
                60..=74 => Behaviour::Liar,
                75..=83 => Behaviour::NoReveal,
                84..=91 => Behaviour::Silent,
                _ => Behaviour::Copier,
            })
            .collect()
    }

    /// Pins the hash of the first slot after `after` in SlotHashes (once it exists) to a value derived from the
    /// master seed, waiting up to two jumps of two slots for it.
    pub async fn pin_seed(&mut self, after: u64, still_needed: bool) {
        for _ in 0..2 {
            if !still_needed || mc::seed_entry(&self.p.env.slot_hashes().await, after).is_some() {
                break;
            }
            self.log.push("warp +2 (seed)".into());
            let now = self.p.env.slot().await;
            self.warp_to(now + 2).await;
            self.seed_waits += 1;
        }
        if let Some((slot, _)) = mc::seed_entry(&self.p.env.slot_hashes().await, after) {
            let pinned = pda::sha256(&[&self.master.to_le_bytes(), &slot.to_le_bytes()]);
            self.p.env.set_slot_hash(slot, pinned).await;
        }
    }

    /// Each member of live request `i` that has not committed does so (per its behaviour) with chance 70 %.
    pub async fn commit(&mut self, i: usize) {
        let r = self.request(i).await;
        for j in 0..r.committee.members.len() {
            if r.committee.members[j].state != MemberState::Assigned || !self.rng.chance(70) {
                continue;
            }
            let b = self.live[i].plan.get(j).copied().unwrap_or(Behaviour::Honest);
            let key = self.live[i].key;
            let who = r.committee.members[j].operator;
            let own = |text: &str| {
                pda::commitment(&key, &who, &pda::output_hash(&r.profile_hash, text), &Self::salt(&key, j))
            };
            let commitment = match b {
                Behaviour::Silent => continue,
                // Copies the bytes of a member that committed already (as of the last read).
                Behaviour::Copier => r
                    .committee
                    .members
                    .iter()
                    .find(|m| m.state != MemberState::Assigned)
                    .map_or(own(ANSWER), |m| m.commitment),
                _ => own(Self::text(b)),
            };
            let signer = self.member_key(&who);
            self.send("commit", &[self.p.ix_commit(&who, &key, commitment)], &[&signer]).await;
        }
    }

    /// Each committed member of live request `i` reveals with chance 70 %: liars their lie, copiers another
    /// member's opening (refused), one in twenty a botched salt (refused), withholders never.
    pub async fn reveal(&mut self, i: usize) {
        let r = self.request(i).await;
        for j in 0..r.committee.members.len() {
            if r.committee.members[j].state != MemberState::Committed || !self.rng.chance(70) {
                continue;
            }
            let b = self.live[i].plan.get(j).copied().unwrap_or(Behaviour::Honest);
            let key = self.live[i].key;
            let (text, salt) = match b {
                Behaviour::NoReveal => continue,
                Behaviour::Copier => (ANSWER, Self::salt(&key, (j + 1) % r.committee.members.len())),
                _ if self.rng.chance(5) => (ANSWER, [0xEE; 32]),
                _ => (Self::text(b), Self::salt(&key, j)),
            };
            let args =
                RevealArgs { output_hash: pda::output_hash(&r.profile_hash, text), salt, tokens_in: 3, tokens_out: 1 };
            let who = r.committee.members[j].operator;
            let signer = self.member_key(&who);
            self.send("reveal", &[self.p.ix_reveal(&who, &key, args)], &[&signer]).await;
        }
    }

    pub async fn finalize(&mut self, i: usize) -> bool {
        let r = self.request(i).await;
        let ix = self.p.ix_finalize(&self.live[i].key, &r);
        self.send("finalize", &[ix], &[]).await
    }
}
