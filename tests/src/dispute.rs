//! Disputes, escalations and callbacks on a [`Protocol`]: instruction builders (open, assign, commit, reveal,
//! resolve, claim, close a dispute; deliver/expire a callback) and helpers that drive the 2k+1 round.
use {
    crate::{
        fixture::{ix_with, Protocol},
        flow::salt,
        pda,
    },
    anchor_lang::prelude::Pubkey,
    solana_instruction::{AccountMeta, Instruction},
    solana_signer::Signer,
    verity::{
        state::{Dispute, Request},
        RevealArgs, WriteOutputArgs,
    },
    verity_client::ix as vix,
};

impl Protocol {
    pub fn ix_open_dispute(&self, challenger: &Pubkey, request: &Pubkey) -> Instruction {
        vix::open_dispute(challenger, request)
    }

    pub fn ix_assign_dispute(&self, request: &Pubkey) -> Instruction {
        vix::assign_dispute(request)
    }

    pub fn ix_commit_dispute(&self, operator: &Pubkey, request: &Pubkey, commitment: [u8; 32]) -> Instruction {
        vix::commit_dispute(operator, request, commitment)
    }

    pub fn ix_reveal_dispute(&self, operator: &Pubkey, request: &Pubkey, args: RevealArgs) -> Instruction {
        vix::reveal_dispute(operator, request, args)
    }

    /// The Operator PDAs `resolve_dispute` needs: the round's members, then the locked first-round members.
    pub fn resolve_remaining(r: &Request, d: &Dispute) -> Vec<AccountMeta> {
        let mut extra: Vec<AccountMeta> =
            d.committee.members.iter().map(|m| AccountMeta::new(pda::operator(&m.operator), false)).collect();
        for (i, m) in r.committee.members.iter().enumerate() {
            if d.locked_first & (1u16 << i) != 0 {
                extra.push(AccountMeta::new(pda::operator(&m.operator), false));
            }
        }
        extra
    }

    pub fn ix_resolve_dispute_with(
        &self,
        request: &Pubkey,
        r: &Request,
        d: &Dispute,
        extra: Vec<AccountMeta>,
    ) -> Instruction {
        ix_with(
            verity::accounts::ResolveDispute {
                payout: self.payout(request, r),
                output: pda::output(request),
                dispute: pda::dispute(request),
                opener: d.opener,
            },
            verity::instruction::ResolveDispute {},
            extra,
        )
    }

    pub fn ix_resolve_dispute(&self, request: &Pubkey, r: &Request, d: &Dispute) -> Instruction {
        self.ix_resolve_dispute_with(request, r, d, Self::resolve_remaining(r, d))
    }

    pub fn ix_claim_dispute_reward(&self, request: &Pubkey, operator: &Pubkey) -> Instruction {
        vix::claim_dispute_reward(request, operator)
    }

    pub fn ix_close_dispute(&self, request: &Pubkey, opener: &Pubkey) -> Instruction {
        vix::close_dispute(request, opener)
    }

    /// `write_output` by a member of the dispute/escalation majority (the Dispute PDA as remaining account).
    pub fn ix_write_output_dispute(
        &self,
        writer: &Pubkey,
        request: &Pubkey,
        offset: u32,
        total_len: u32,
        data: &[u8],
    ) -> Instruction {
        vix::write_output_second_round(writer, request, WriteOutputArgs { offset, total_len, data: data.to_vec() })
    }

    pub fn ix_deliver_callback(&self, request: &Pubkey, program: &Pubkey, extra: Vec<AccountMeta>) -> Instruction {
        vix::deliver_callback(request, program, extra)
    }

    pub fn ix_expire_callback(&self, request: &Pubkey) -> Instruction {
        vix::expire_callback(request)
    }

    /// The on-chain Dispute of `request`.
    pub async fn dispute(&mut self, request: &Pubkey) -> Dispute {
        self.env.account(&pda::dispute(request)).await
    }

    /// Makes the seed available (two slots after the opening) and assigns the 2k+1 committee; returns it as
    /// indices into `operators`, draw order.
    pub async fn assign_dispute(&mut self, request: &Pubkey) -> Vec<usize> {
        self.make_seed_available().await;
        let assign = self.ix_assign_dispute(request);
        self.env.ok(&[assign], &[]).await;
        let d = self.dispute(request).await;
        d.committee
            .members
            .iter()
            .map(|m| self.operators.iter().position(|o| o.authority.pubkey() == m.operator).expect("fixture operator"))
            .collect()
    }

    /// The commit instruction of operator `op` for `text` in the dispute round of `request` (salt `salt(op)`).
    pub fn ix_commit_dispute_text(&self, request: &Pubkey, op: usize, model: usize, text: &str) -> Instruction {
        let auth = self.operators[op].authority.pubkey();
        let c = pda::commitment(&pda::dispute(request), &auth, &self.output_hash(model, text), &salt(op));
        self.ix_commit_dispute(&auth, request, c)
    }

    pub fn ix_reveal_dispute_text(&self, request: &Pubkey, op: usize, model: usize, text: &str) -> Instruction {
        let auth = self.operators[op].authority.pubkey();
        let args =
            RevealArgs { output_hash: self.output_hash(model, text), salt: salt(op), tokens_in: 4, tokens_out: 9 };
        self.ix_reveal_dispute(&auth, request, args)
    }

    pub async fn commit_dispute(&mut self, request: &Pubkey, op: usize, model: usize, text: &str) {
        let ix = self.ix_commit_dispute_text(request, op, model, text);
        let auth = self.operators[op].authority.insecure_clone();
        self.env.ok(&[ix], &[&auth]).await;
    }

    pub async fn reveal_dispute(&mut self, request: &Pubkey, op: usize, model: usize, text: &str) {
        let ix = self.ix_reveal_dispute_text(request, op, model, text);
        let auth = self.operators[op].authority.insecure_clone();
        self.env.ok(&[ix], &[&auth]).await;
    }

    /// Resolves the dispute of `request` (anyone may; the payer cranks it).
    pub async fn resolve_dispute(&mut self, request: &Pubkey) -> crate::TxOk {
        let r = self.request(request).await;
        let d = self.dispute(request).await;
        let ix = self.ix_resolve_dispute(request, &r, &d);
        self.env.ok(&[ix], &[]).await
    }

    /// Moves past the dispute round's reveal deadline (or commit deadline + reveal window).
    pub async fn pass_dispute_reveal_deadline(&mut self, request: &Pubkey) {
        let d = self.dispute(request).await;
        let end = if d.committee.reveal_deadline > 0 {
            d.committee.reveal_deadline
        } else {
            d.committee.commit_deadline + self.params.reveal_window
        };
        self.env.warp_to(end + 1).await;
    }

    /// Runs the first round of a fresh default request: committee member `j` commits and reveals `texts[j]`
    /// (`None`: stays silent), then finalizes. Returns (requester, request, committee).
    pub async fn first_round(&mut self, texts: &[Option<&str>]) -> (solana_keypair::Keypair, Pubkey, Vec<usize>) {
        let (req, request, c) = self.assigned().await;
        for (j, &op) in c.iter().enumerate() {
            if let Some(t) = texts.get(j).copied().flatten() {
                self.commit(&request, op, 0, t).await;
            }
        }
        let r = self.request(&request).await;
        if r.status == verity::RequestStatus::Committing {
            self.env.warp_to(r.committee.commit_deadline + 1).await;
        }
        for (j, &op) in c.iter().enumerate() {
            if let Some(t) = texts.get(j).copied().flatten() {
                self.reveal(&request, op, 0, t, (4, 9)).await;
            }
        }
        let r = self.request(&request).await;
        if r.committee.revealed_count != r.committee.committed_count {
            self.pass_reveal_deadline(&request).await;
        }
        self.finalize(&request).await;
        (req, request, c)
    }

    /// Every member of the dispute round `plan[j]`: commits and reveals `Some(text)`, or stays silent.
    pub async fn dispute_round(&mut self, request: &Pubkey, d: &[usize], plan: &[Option<&str>]) {
        for (j, &op) in d.iter().enumerate() {
            if let Some(t) = plan.get(j).copied().flatten() {
                self.commit_dispute(request, op, 0, t).await;
            }
        }
        let dd = self.dispute(request).await;
        if dd.phase == verity::DisputePhase::Committing {
            self.env.warp_to(dd.committee.commit_deadline + 1).await;
        }
        for (j, &op) in d.iter().enumerate() {
            if let Some(t) = plan.get(j).copied().flatten() {
                self.reveal_dispute(request, op, 0, t).await;
            }
        }
        let dd = self.dispute(request).await;
        if dd.committee.revealed_count != dd.committee.committed_count {
            self.pass_dispute_reveal_deadline(request).await;
        }
    }
}
