//! The property world's second rounds: challenges of Finalized results (bonded), escalations of requests without
//! a majority, the 2k+1 round's commit-reveal with honest and faulty members, resolution, claims and closes.
use {
    crate::{
        pda,
        prop_world::{Behaviour, World, ANSWER},
    },
    solana_signer::Signer,
    verity::{
        state::{Dispute, DisputePhase, MemberState, RequestStatus},
        RevealArgs,
    },
};

impl World {
    /// The Dispute account of live request `i`, if one is open (or resolved and not closed yet).
    pub async fn dispute_of(&mut self, i: usize) -> Option<Dispute> {
        let key = pda::dispute(&self.live[i].key);
        self.p.env.try_account::<Dispute>(&key).await
    }

    /// A random challenger opens a dispute (Finalized: bonded challenge) or an escalation (Escalated).
    pub async fn open_dispute(&mut self, i: usize) -> bool {
        let status = self.status(i).await;
        let name = if status == RequestStatus::Escalated { "escalate" } else { "dispute" };
        let c = self.rng.below(self.challengers.len() as u64) as usize;
        let ch = self.challengers[c].insecure_clone();
        let ix = self.p.ix_open_dispute(&ch.pubkey(), &self.live[i].key);
        self.send(name, &[ix], &[&ch]).await
    }

    /// Draws the 2k+1 committee (seed pinned like the first round's).
    pub async fn assign_dispute(&mut self, i: usize) {
        let Some(d) = self.dispute_of(i).await else { return };
        self.pin_seed(d.open_slot, d.phase == DisputePhase::Open).await;
        let ix = self.p.ix_assign_dispute(&self.live[i].key);
        if self.send("assign_dispute", &[ix], &[]).await {
            let k = self.dispute_of(i).await.map_or(0, |d| d.committee.members.len());
            self.live[i].dplan = self.behaviours(k);
        }
    }

    /// Each member of the second round that has not committed does so (per its behaviour) with chance 70 %.
    pub async fn commit_dispute(&mut self, i: usize) {
        let Some(d) = self.dispute_of(i).await else { return };
        let r = self.request(i).await;
        let dkey = pda::dispute(&self.live[i].key);
        for j in 0..d.committee.members.len() {
            if d.committee.members[j].state != MemberState::Assigned || !self.rng.chance(70) {
                continue;
            }
            let b = self.live[i].dplan.get(j).copied().unwrap_or(Behaviour::Honest);
            let who = d.committee.members[j].operator;
            let own = |text: &str| {
                pda::commitment(&dkey, &who, &pda::output_hash(&r.profile_hash, text), &Self::salt(&dkey, j))
            };
            let commitment = match b {
                Behaviour::Silent => continue,
                Behaviour::Copier => d
                    .committee
                    .members
                    .iter()
                    .find(|m| m.state != MemberState::Assigned)
                    .map_or(own(ANSWER), |m| m.commitment),
                _ => own(Self::text(b)),
            };
            let signer = self.member_key(&who);
            self.send("commit_dispute", &[self.p.ix_commit_dispute(&who, &self.live[i].key, commitment)], &[&signer])
                .await;
        }
    }

    /// Each committed member of the second round reveals with chance 70 % (copiers another's opening, refused).
    pub async fn reveal_dispute(&mut self, i: usize) {
        let Some(d) = self.dispute_of(i).await else { return };
        let r = self.request(i).await;
        let dkey = pda::dispute(&self.live[i].key);
        for j in 0..d.committee.members.len() {
            if d.committee.members[j].state != MemberState::Committed || !self.rng.chance(70) {
                continue;
            }
            let b = self.live[i].dplan.get(j).copied().unwrap_or(Behaviour::Honest);
            let (text, salt) = match b {
                Behaviour::NoReveal => continue,
                Behaviour::Copier => (ANSWER, Self::salt(&dkey, (j + 1) % d.committee.members.len())),
                _ => (Self::text(b), Self::salt(&dkey, j)),
            };
            let args =
                RevealArgs { output_hash: pda::output_hash(&r.profile_hash, text), salt, tokens_in: 3, tokens_out: 1 };
            let who = d.committee.members[j].operator;
            let signer = self.member_key(&who);
            self.send("reveal_dispute", &[self.p.ix_reveal_dispute(&who, &self.live[i].key, args)], &[&signer]).await;
        }
    }

    /// Resolves the second round (records the verdict in the stats on success).
    pub async fn resolve_dispute(&mut self, i: usize) -> bool {
        let Some(d) = self.dispute_of(i).await else { return false };
        let r = self.request(i).await;
        let ix = self.p.ix_resolve_dispute(&self.live[i].key, &r, &d);
        let ok = self.send("resolve_dispute", &[ix], &[]).await;
        if ok {
            if let Some(d) = self.dispute_of(i).await {
                *self.stats.entry(format!("verdict {:?}", d.verdict)).or_default() += 1;
            }
        }
        ok
    }

    /// Claims the reward of a random member of the second round (possibly nothing owed / unresolved / claimed).
    pub async fn claim_dispute(&mut self, i: usize) {
        let Some(d) = self.dispute_of(i).await else { return };
        let Some(m) = self.rng.pick(&d.committee.members).copied() else { return };
        let ix = self.p.ix_claim_dispute_reward(&self.live[i].key, &m.operator);
        self.send("claim_dispute", &[ix], &[]).await;
    }

    /// Closes the Dispute account of live request `i` (rent to its opener). True when none is left.
    pub async fn close_dispute(&mut self, i: usize) -> bool {
        let Some(d) = self.dispute_of(i).await else { return true };
        let ix = self.p.ix_close_dispute(&self.live[i].key, &d.opener);
        self.send("close_dispute", &[ix], &[]).await
    }

    /// The action a live request's second round calls for, mostly.
    pub async fn dispute_step(&mut self, i: usize, d: &Dispute, next: u64) {
        match (d.phase, next) {
            (DisputePhase::Open, 10..=79) => self.assign_dispute(i).await,
            (DisputePhase::Committing, 10..=74) => self.commit_dispute(i).await,
            (DisputePhase::Revealing, 10..=64) => self.reveal_dispute(i).await,
            (DisputePhase::Resolved, 10..=59) => self.claim_dispute(i).await,
            (DisputePhase::Resolved, _) => {
                self.close_dispute(i).await;
            }
            (_, 80..=99) | (DisputePhase::Revealing, 65..=79) => {
                self.resolve_dispute(i).await;
            }
            _ => self.warp().await,
        }
    }

    /// Before the end of a sequence: escalations are opened most of the time, Finalized results are challenged
    /// (lies mostly), and the opened rounds are assigned and played (commit, reveal) by their members' plans.
    pub async fn play_second_rounds(&mut self) {
        for i in 0..self.live.len() {
            let r = self.request(i).await;
            let lie = r.winning_hash == pda::output_hash(&r.profile_hash, crate::prop_world::LIE);
            let open = match (r.status, r.round) {
                (RequestStatus::Escalated, 0) => self.rng.chance(60),
                // Lies are challenged mostly; after the window the attempt is refused (DisputeWindowClosed).
                (RequestStatus::Finalized, 0) => self.rng.chance(if lie { 90 } else { 40 }),
                // A second dispute of the same request is refused (AlreadyDisputed).
                (RequestStatus::Finalized | RequestStatus::Disputed | RequestStatus::Escalated, _) => {
                    self.rng.chance(10)
                }
                _ => false,
            };
            if open {
                self.open_dispute(i).await;
            }
        }
        for i in 0..self.live.len() {
            if self.dispute_of(i).await.is_some_and(|d| d.phase == DisputePhase::Open) && self.rng.chance(90) {
                self.assign_dispute(i).await;
            }
        }
        for _ in 0..3 {
            for i in 0..self.live.len() {
                if self.dispute_of(i).await.is_some_and(|d| d.phase == DisputePhase::Committing) {
                    self.commit_dispute(i).await;
                }
            }
        }
        let now = self.p.env.slot().await;
        let mut target = now;
        for i in 0..self.live.len() {
            if let Some(d) = self.dispute_of(i).await.filter(|d| d.phase == DisputePhase::Committing) {
                target = target.max(d.committee.commit_deadline + 1);
            }
        }
        if target > now && self.rng.chance(70) {
            self.log.push("warp (dispute commit deadline)".into());
            self.warp_to(target).await;
        }
        for _ in 0..3 {
            for i in 0..self.live.len() {
                if self
                    .dispute_of(i)
                    .await
                    .is_some_and(|d| d.phase != DisputePhase::Open && d.phase != DisputePhase::Resolved)
                {
                    self.reveal_dispute(i).await;
                }
            }
        }
    }

    /// Settles every open second round after passing its deadlines: escalations nobody opened expire (refund),
    /// disputes resolve. Each must succeed.
    pub async fn settle_second_rounds(&mut self) {
        self.play_second_rounds().await;
        let prm = self.p.params;
        let mut target = self.p.env.slot().await;
        for i in 0..self.live.len() {
            let r = self.request(i).await;
            let end = match (r.status, self.dispute_of(i).await) {
                (RequestStatus::Escalated, None) => r.finalized_slot + prm.assign_window + 1,
                (_, Some(d)) => match d.phase {
                    DisputePhase::Open => d.open_slot + prm.assign_window + 1,
                    DisputePhase::Committing | DisputePhase::Revealing if d.committee.reveal_deadline > 0 => {
                        d.committee.reveal_deadline + 1
                    }
                    DisputePhase::Committing | DisputePhase::Revealing => {
                        d.committee.commit_deadline + prm.reveal_window + 1
                    }
                    DisputePhase::Resolved => 0,
                },
                _ => 0,
            };
            target = target.max(end);
        }
        self.warp_to(target).await;
        for i in 0..self.live.len() {
            let r = self.request(i).await;
            match (r.status, self.dispute_of(i).await) {
                (RequestStatus::Escalated, None) => {
                    let ok = self.expire(i).await;
                    self.must("expire escalated", ok).await;
                }
                (_, Some(d)) if d.phase != DisputePhase::Resolved => {
                    let ok = self.resolve_dispute(i).await;
                    self.must("resolve_dispute", ok).await;
                }
                _ => {}
            }
        }
        for i in 0..self.live.len() {
            let r = self.request(i).await;
            // A second dispute of a request whose second round ended is refused (AlreadyDisputed).
            if r.round > 0 && self.rng.chance(20) {
                self.open_dispute(i).await;
            }
            if r.status == RequestStatus::Finalized && self.rng.chance(50) {
                self.write_output(i).await;
            }
            let Some(d) = self.dispute_of(i).await else { continue };
            for m in d.committee.members.iter().filter(|m| m.reward > 0 && !m.claimed) {
                let ix = self.p.ix_claim_dispute_reward(&self.live[i].key, &m.operator);
                let ok = self.send("claim_dispute", &[ix], &[]).await;
                self.must("claim_dispute", ok).await;
            }
        }
    }
}
