//! The property test's driver: settlement-side actions (claim, write output, expire, close), operator churn
//! (stake, unbond, withdraw, served models, leave and rejoin), the random step mix with time jumps, the
//! conservation check after every step, and the end of each sequence, where every deadline is passed and
//! permissionless cranks must drain every escrow.
use {
    crate::{
        pda,
        prop_world::{World, ANSWER, LIE},
    },
    solana_signer::Signer,
    verity::state::{Operator, Outcome, RequestStatus},
};

impl World {
    /// Claims the reward of a random member of live request `i` (possibly nothing owed / locked / claimed).
    pub async fn claim(&mut self, i: usize) {
        let r = self.request(i).await;
        let Some(m) = self.rng.pick(&r.committee.members).copied() else { return };
        let ix = self.p.ix_claim(&self.live[i].key, &m.operator);
        self.send("claim", &[ix], &[]).await;
    }

    /// A majority member writes the winning output in two chunks (a member of the second round's majority
    /// when that round decided the result, passing the Dispute account).
    pub async fn write_output(&mut self, i: usize) {
        let r = self.request(i).await;
        let first = r.committee.members.iter().find(|m| m.outcome == Outcome::Agreed).map(|m| m.operator);
        let second = match first {
            Some(_) => None,
            None => self
                .dispute_of(i)
                .await
                .and_then(|d| d.committee.members.iter().find(|m| m.outcome == Outcome::Agreed).map(|m| m.operator)),
        };
        let Some(who) = first.or(second) else { return };
        let text = if r.winning_hash == pda::output_hash(&r.profile_hash, LIE) { LIE } else { ANSWER };
        let key = self.live[i].key;
        let signer = self.member_key(&who);
        let len = text.len() as u32;
        let (mut a, mut b) = (
            self.p.ix_write_output(&who, &key, 0, len, &text.as_bytes()[..5]),
            self.p.ix_write_output(&who, &key, 5, len, &text.as_bytes()[5..]),
        );
        if second.is_some() {
            let meta = solana_instruction::AccountMeta::new_readonly(pda::dispute(&key), false);
            a.accounts.push(meta.clone());
            b.accounts.push(meta);
        }
        self.send("write_output", &[a, b], &[&signer]).await;
    }

    pub async fn expire(&mut self, i: usize) -> bool {
        let r = self.request(i).await;
        let ix = self.p.ix_expire(&self.live[i].key, &r.requester);
        self.send("expire", &[ix], &[]).await
    }

    /// The requester closes live request `i` (its Dispute account first, if any); on success it leaves the live
    /// set.
    pub async fn close(&mut self, i: usize) -> bool {
        if !self.close_dispute(i).await {
            return false;
        }
        let requester = self.requesters[self.live[i].requester].insecure_clone();
        let key = self.live[i].key;
        let ok = self.send("close", &[self.p.ix_close(&requester.pubkey(), &key)], &[&requester]).await;
        if ok {
            self.live.remove(i);
            self.ledger.forget_request(&key);
        }
        ok
    }

    /// Whether live request `i`'s Output holds its complete result.
    pub async fn output_complete(&mut self, i: usize) -> bool {
        let key = pda::output(&self.live[i].key);
        self.p.env.try_account::<verity::state::Output>(&key).await.is_some_and(|o| o.complete)
    }

    /// Status of live request `i`.
    pub async fn status(&mut self, i: usize) -> RequestStatus {
        self.request(i).await.status
    }

    /// A random operator does a random staking action (or rejoins if it has left).
    pub async fn operator_action(&mut self) {
        let o = self.rng.below(self.p.operators.len() as u64) as usize;
        let a = self.p.operators[o].authority.insecure_clone();
        let (tokens, op_pda) = (self.p.operators[o].tokens, self.p.operators[o].pda);
        let Some(op) = self.p.env.try_account::<Operator>(&op_pda).await else {
            let served = crate::prop_world::served_by(o);
            let amount = 20_000 + self.rng.below(100_000);
            let ixs = [self.p.ix_register_operator(&a.pubkey(), served), self.p.ix_stake(&a.pubkey(), &tokens, amount)];
            self.send("rejoin", &ixs, &[&a]).await;
            return;
        };
        let me = a.pubkey();
        let (name, ix) = match self.rng.below(100) {
            0..=29 => ("stake", self.p.ix_stake(&me, &tokens, 1 + self.rng.below(60_000))),
            30..=35 => ("unstake", self.p.ix_request_unstake(&me, self.rng.below(op.stake.saturating_add(1)))),
            36..=59 => ("withdraw", self.p.ix_withdraw_stake(&me, &tokens)),
            60..=65 => {
                ("served", self.p.ix_set_served_models(&me, [0b01, 0b10, 0b11, 0b11, 0][self.rng.below(5) as usize]))
            }
            66..=89 => ("deregister", self.p.ix_deregister_operator(&me)),
            // Leaving, one step at a time: unbond everything, withdraw it, deregister.
            _ if op.stake > 0 => ("unstake_all", self.p.ix_request_unstake(&me, op.stake)),
            _ if op.unbonding > 0 => ("withdraw", self.p.ix_withdraw_stake(&me, &tokens)),
            _ => ("deregister", self.p.ix_deregister_operator(&me)),
        };
        self.send(name, &[ix], &[&a]).await;
    }

    /// Index of a random live request (None if there is none).
    fn any_live(&mut self) -> Option<usize> {
        let n = self.live.len() as u64;
        (n > 0).then(|| self.rng.below(n) as usize)
    }

    /// One random step, then the conservation check. Most steps push a random live request along (the
    /// action its status calls for, mostly); the rest submit, jump in time, churn stake, or try an action out
    /// of turn (refused with a Verity error, nothing moves).
    pub async fn step(&mut self) {
        let roll = self.rng.below(100);
        let live = self.any_live();
        let Some(i) = live.filter(|_| roll >= 22) else {
            match roll {
                _ if live.is_none() && roll < 60 => self.submit().await,
                0..=9 => self.submit().await,
                10..=15 | 60..=79 => self.warp().await,
                _ => self.operator_action().await,
            }
            return self.verify().await;
        };
        let next = self.rng.below(100);
        let dispute = self.dispute_of(i).await;
        match (self.status(i).await, next) {
            (_, 0..=9) => self.out_of_turn(i).await,
            (RequestStatus::Pending, 10..=84) => self.assign(i).await,
            (RequestStatus::Committing, 10..=79) => self.commit(i).await,
            (RequestStatus::Revealing, 10..=69) => self.reveal(i).await,
            (RequestStatus::Revealing, 70..=89) => {
                // A rational challenger disputes a lie at once (most of the time), sometimes the truth.
                if self.finalize(i).await && self.status(i).await == RequestStatus::Finalized {
                    let r = self.request(i).await;
                    let lie = r.winning_hash == pda::output_hash(&r.profile_hash, LIE);
                    if self.rng.chance(if lie { 80 } else { 30 }) {
                        self.open_dispute(i).await;
                    }
                }
            }
            (RequestStatus::Escalated | RequestStatus::Disputed, 10..=99) if dispute.is_some() => {
                let d = dispute.expect("checked");
                self.dispute_step(i, &d, next).await;
            }
            (RequestStatus::Finalized, 80..=89) if dispute.is_some() => self.claim_dispute(i).await,
            (RequestStatus::Escalated, 10..=74) => {
                self.open_dispute(i).await;
            }
            (RequestStatus::Escalated, 75..=84) => {
                self.expire(i).await;
            }
            (RequestStatus::Finalized, 10..=49) => self.claim(i).await,
            (RequestStatus::Finalized, 50..=69) => self.write_output(i).await,
            (RequestStatus::Finalized, 70..=79) => {
                self.open_dispute(i).await;
            }
            (RequestStatus::Finalized | RequestStatus::NoConsensus | RequestStatus::Expired, _) => {
                self.close(i).await;
            }
            _ => self.warp().await,
        }
        self.verify().await;
    }

    /// Time jump of 1..=6 slots.
    pub(crate) async fn warp(&mut self) {
        let n = 1 + self.rng.below(6);
        self.log.push(format!("warp +{n}"));
        let now = self.p.env.slot().await;
        self.warp_to(now + n).await;
    }

    /// Any request action on live request `i`, whatever its status.
    async fn out_of_turn(&mut self, i: usize) {
        match self.rng.below(12) {
            0 => self.assign(i).await,
            1 => self.commit(i).await,
            2 => self.reveal(i).await,
            3 => {
                self.finalize(i).await;
            }
            4 => self.claim(i).await,
            5 => self.write_output(i).await,
            6 => {
                self.expire(i).await;
            }
            8 => {
                self.open_dispute(i).await;
            }
            9 => self.assign_dispute(i).await,
            10 => {
                self.resolve_dispute(i).await;
            }
            11 => self.claim_dispute(i).await,
            _ => {
                self.close(i).await;
            }
        }
    }

    /// Panics with the reproduction line and the sequence's steps if an invariant is broken (`full`: re-read
    /// every watched account instead of trusting the per-transaction refresh).
    pub async fn verify_with(&mut self, full: bool) {
        let t = std::time::Instant::now();
        let res =
            if full { self.ledger.check_full(&mut self.p.env).await } else { self.ledger.check(&mut self.p.env).await };
        self.check_time += t.elapsed();
        if let Err(e) = res {
            panic!("{}: {e}\nsteps of this sequence: {:#?}", self.repro(), self.log);
        }
    }

    pub async fn verify(&mut self) {
        self.verify_with(false).await;
    }

    pub(crate) async fn must(&mut self, what: &str, ok: bool) {
        assert!(ok, "{}: settling failed at {what} (escrow stuck)\nsteps: {:#?}", self.repro(), self.log);
    }

    /// Passes every deadline of the live requests and settles them with permissionless cranks (expire,
    /// finalize, claim); each must succeed, and then every Request holds exactly its rent (checked by the
    /// ledger: nothing owed, nothing left) and its requester closes it.
    pub async fn settle(&mut self) {
        let prm = self.p.params;
        let mut target = self.p.env.slot().await;
        for i in 0..self.live.len() {
            let r = self.request(i).await;
            let end = match r.status {
                RequestStatus::Pending => r.submit_slot + prm.assign_window + 1,
                RequestStatus::Committing | RequestStatus::Revealing if r.committee.reveal_deadline > 0 => {
                    r.committee.reveal_deadline + 1
                }
                RequestStatus::Committing | RequestStatus::Revealing => {
                    r.committee.commit_deadline + prm.reveal_window + 1
                }
                _ => 0,
            };
            target = target.max(end);
        }
        self.warp_to(target).await;
        for i in 0..self.live.len() {
            match self.status(i).await {
                RequestStatus::Pending => {
                    let ok = self.expire(i).await;
                    self.must("expire", ok).await;
                }
                RequestStatus::Committing | RequestStatus::Revealing => {
                    let ok = self.finalize(i).await;
                    self.must("finalize", ok).await;
                }
                _ => {}
            }
        }
        self.settle_second_rounds().await;
        let mut unlock = 0;
        for i in 0..self.live.len() {
            let r = self.request(i).await;
            if r.status == RequestStatus::Finalized && r.round == 0 {
                unlock = unlock.max(r.finalized_slot + prm.dispute_window);
            }
        }
        self.warp_to(unlock).await;
        // Late challenges: the dispute window of these results has passed (refused: DisputeWindowClosed).
        for i in 0..self.live.len() {
            let r = self.request(i).await;
            if r.status == RequestStatus::Finalized && r.round == 0 && self.rng.chance(20) {
                self.open_dispute(i).await;
            }
        }
        for i in 0..self.live.len() {
            let r = self.request(i).await;
            for m in r.committee.members.iter().filter(|m| m.reward > 0 && !m.claimed) {
                let ix = self.p.ix_claim(&self.live[i].key, &m.operator);
                let ok = self.send("claim", &[ix], &[]).await;
                self.must("claim", ok).await;
            }
        }
        self.verify().await;
        // A result's Dispute account (needed by a second-round majority to write the output) closes once the
        // output is complete or RESULT_KEEP_SLOTS after the resolution: write what is missing, else wait.
        let mut keep = 0;
        for i in 0..self.live.len() {
            let r = self.request(i).await;
            if r.status != RequestStatus::Finalized {
                continue;
            }
            if !self.output_complete(i).await {
                self.write_output(i).await;
            }
            if !self.output_complete(i).await {
                keep = keep.max(r.unlock_slot() + verity::constants::RESULT_KEEP_SLOTS + 1);
            }
        }
        self.warp_to(keep).await;
        while !self.live.is_empty() {
            let ok = self.close(0).await;
            self.must("close", ok).await;
        }
        // Keep the draw alive: operators whose stake ran low (slashing, unbonding) top up; unbonded stake leaves.
        for o in 0..self.p.operators.len() {
            let a = self.p.operators[o].authority.insecure_clone();
            let (tokens, op_pda) = (self.p.operators[o].tokens, self.p.operators[o].pda);
            let Some(op) = self.p.env.try_account::<Operator>(&op_pda).await else { continue };
            if op.stake < 20_000 && op.stake > 0 && op.unbonding == 0 {
                let ix = self.p.ix_stake(&a.pubkey(), &tokens, 50_000);
                let ok = self.send("top_up", &[ix], &[&a]).await;
                self.must("top_up", ok).await;
            }
            // Unbonded stake past its release slot is withdrawn most of the time (no assignment is open now).
            if op.unbonding > 0 && self.p.env.slot().await >= op.release_slot && self.rng.chance(70) {
                let ix = self.p.ix_withdraw_stake(&a.pubkey(), &tokens);
                let ok = self.send("withdraw", &[ix], &[&a]).await;
                self.must("withdraw", ok).await;
            }
        }
        self.verify_with(true).await;
    }

    /// One sequence: 5..=16 random steps, each followed by the check, then settlement.
    pub async fn sequence(&mut self) {
        self.log.clear();
        let steps = 5 + self.rng.below(12);
        for _ in 0..steps {
            self.step().await;
        }
        self.log.push("settle".into());
        self.settle().await;
    }
}
