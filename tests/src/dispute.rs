//! Disputes, escalations and callbacks on a [`Protocol`]: instruction builders (open, assign, commit, reveal,
//! resolve, claim, close a dispute; deliver/expire a callback) and helpers that drive the 2k+1 round.
use {
    crate::{
        fixture::{ix, ix_with, Protocol},
        flow::salt,
        pda,
    },
    anchor_lang::prelude::Pubkey,
    anchor_spl::token::spl_token,
    solana_instruction::{AccountMeta, Instruction},
    solana_signer::Signer,
    verity::{
        state::{Dispute, Request},
        RevealArgs,
    },
};

impl Protocol {
    pub fn ix_open_dispute(&self, challenger: &Pubkey, request: &Pubkey) -> Instruction {
        ix(
            verity::accounts::OpenDispute {
                challenger: *challenger,
                config: pda::config(),
                registry: pda::registry(),
                request: *request,
                dispute: pda::dispute(request),
                system_program: anchor_lang::system_program::ID,
            },
            verity::instruction::OpenDispute {},
        )
    }

    pub fn ix_assign_dispute(&self, request: &Pubkey) -> Instruction {
        ix(
            verity::accounts::AssignDispute {
                config: pda::config(),
                registry: pda::registry(),
                request: *request,
                dispute: pda::dispute(request),
                slot_hashes: solana_sdk_ids::sysvar::slot_hashes::ID,
            },
            verity::instruction::AssignDispute {},
        )
    }

    pub fn ix_commit_dispute(&self, operator: &Pubkey, request: &Pubkey, commitment: [u8; 32]) -> Instruction {
        ix(
            verity::accounts::CommitDispute { operator: *operator, config: pda::config(), dispute: pda::dispute(request) },
            verity::instruction::CommitDispute { commitment },
        )
    }

    pub fn ix_reveal_dispute(&self, operator: &Pubkey, request: &Pubkey, args: RevealArgs) -> Instruction {
        ix(
            verity::accounts::RevealDispute { operator: *operator, config: pda::config(), dispute: pda::dispute(request) },
            verity::instruction::RevealDispute { args },
        )
    }

    /// The Operator PDAs `resolve_dispute` needs: the round's members, then the locked first-round members.
    pub fn resolve_remaining(r: &Request, d: &Dispute) -> Vec<AccountMeta> {
        let mut extra: Vec<AccountMeta> =
            d.members.iter().map(|m| AccountMeta::new(pda::operator(&m.operator), false)).collect();
        for (i, m) in r.members.iter().enumerate() {
            if d.locked_first & (1u16 << i) != 0 {
                extra.push(AccountMeta::new(pda::operator(&m.operator), false));
            }
        }
        extra
    }

    pub fn ix_resolve_dispute_with(&self, request: &Pubkey, r: &Request, d: &Dispute, extra: Vec<AccountMeta>) -> Instruction {
        ix_with(
            verity::accounts::ResolveDispute {
                config: pda::config(),
                registry: pda::registry(),
                request: *request,
                output: pda::output(request),
                dispute: pda::dispute(request),
                requester: r.requester,
                model_owner: r.model_owner,
                treasury: self.treasury,
                opener: d.opener,
                stake_mint: self.stake_mint,
                stake_vault: pda::stake_vault(),
                treasury_stake: self.treasury_stake,
                token_program: spl_token::ID,
            },
            verity::instruction::ResolveDispute {},
            extra,
        )
    }

    pub fn ix_resolve_dispute(&self, request: &Pubkey, r: &Request, d: &Dispute) -> Instruction {
        self.ix_resolve_dispute_with(request, r, d, Self::resolve_remaining(r, d))
    }

    pub fn ix_claim_dispute_reward(&self, request: &Pubkey, operator: &Pubkey) -> Instruction {
        ix(
            verity::accounts::ClaimDisputeReward { dispute: pda::dispute(request), operator: *operator },
            verity::instruction::ClaimDisputeReward {},
        )
    }

    pub fn ix_close_dispute(&self, request: &Pubkey, opener: &Pubkey) -> Instruction {
        ix(
            verity::accounts::CloseDispute {
                dispute: pda::dispute(request),
                opener: *opener,
                request: *request,
                output: pda::output(request),
            },
            verity::instruction::CloseDispute {},
        )
    }

    /// `write_output` by a member of the dispute/escalation majority (the Dispute PDA as remaining account).
    pub fn ix_write_output_dispute(&self, writer: &Pubkey, request: &Pubkey, offset: u32, total_len: u32, data: &[u8]) -> Instruction {
        let mut i = self.ix_write_output(writer, request, offset, total_len, data);
        i.accounts.push(AccountMeta::new_readonly(pda::dispute(request), false));
        i
    }

    pub fn ix_deliver_callback(&self, request: &Pubkey, program: &Pubkey, extra: Vec<AccountMeta>) -> Instruction {
        ix_with(
            verity::accounts::DeliverCallback {
                config: pda::config(),
                request: *request,
                output: pda::output(request),
                callback_authority: pda::callback_authority(request),
                callback_program: *program,
            },
            verity::instruction::DeliverCallback {},
            extra,
        )
    }

    pub fn ix_expire_callback(&self, request: &Pubkey) -> Instruction {
        ix(
            verity::accounts::ExpireCallback { config: pda::config(), request: *request },
            verity::instruction::ExpireCallback {},
        )
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
        d.members
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
        let args = RevealArgs { output_hash: self.output_hash(model, text), salt: salt(op), tokens_in: 4, tokens_out: 9 };
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
        let end = if d.reveal_deadline > 0 { d.reveal_deadline } else { d.commit_deadline + self.params.reveal_window };
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
            self.env.warp_to(r.commit_deadline + 1).await;
        }
        for (j, &op) in c.iter().enumerate() {
            if let Some(t) = texts.get(j).copied().flatten() {
                self.reveal(&request, op, 0, t, (4, 9)).await;
            }
        }
        let r = self.request(&request).await;
        if r.revealed_count != r.committed_count {
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
            self.env.warp_to(dd.commit_deadline + 1).await;
        }
        for (j, &op) in d.iter().enumerate() {
            if let Some(t) = plan.get(j).copied().flatten() {
                self.reveal_dispute(request, op, 0, t).await;
            }
        }
        let dd = self.dispute(request).await;
        if dd.revealed_count != dd.committed_count {
            self.pass_dispute_reveal_deadline(request).await;
        }
    }
}
