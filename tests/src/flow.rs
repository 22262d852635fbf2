//! Request lifecycle on a [`Protocol`]: instruction builders for submit → assign → commit → reveal → finalize →
//! write output → claim → close / expire (the client crate's, PDAs checked against the spec in tests/client.rs),
//! and helpers that drive a request through them.
use {
    crate::{
        fixture::{ix_with, Protocol},
        pda,
    },
    anchor_lang::prelude::Pubkey,
    anchor_spl::token::spl_token,
    solana_instruction::{AccountMeta, Instruction},
    solana_keypair::Keypair,
    solana_signer::Signer,
    verity::{state::Request, RevealArgs, Sampling, SubmitRequestArgs, WriteOutputArgs},
    verity_client::ix as vix,
};

/// Default output capacity reserved by test requests.
pub const OUTPUT_CAPACITY: u32 = 256;

/// An inline-prompt request with default capacity and no callback.
pub fn submit_args(nonce: u64, prompt: &str, max_tokens: u32, fee: u64) -> SubmitRequestArgs {
    SubmitRequestArgs {
        nonce,
        prompt: prompt.as_bytes().to_vec(),
        prompt_hash: None,
        prompt_uri: String::new(),
        max_tokens,
        fee,
        output_capacity: OUTPUT_CAPACITY,
        callback_program: None,
        sampling: Sampling::GREEDY,
    }
}

/// Fee of the default request (price 1_000 × 20 tokens = 20_000 minimum).
pub const DEFAULT_FEE: u64 = 1_000_000;
/// max_tokens of the default request.
pub const DEFAULT_MAX_TOKENS: u32 = 20;

/// A deterministic salt for member `i` of a test.
pub fn salt(i: usize) -> [u8; 32] {
    pda::sha256(&[b"salt", &i.to_le_bytes()])
}

impl Protocol {
    pub fn ix_submit(&self, requester: &Pubkey, model: &Pubkey, args: SubmitRequestArgs) -> Instruction {
        vix::submit(requester, model, args)
    }

    pub fn ix_assign(&self, request: &Pubkey) -> Instruction {
        vix::assign(request)
    }

    pub fn ix_commit(&self, operator: &Pubkey, request: &Pubkey, commitment: [u8; 32]) -> Instruction {
        vix::commit(operator, request, commitment)
    }

    pub fn ix_reveal(&self, operator: &Pubkey, request: &Pubkey, args: RevealArgs) -> Instruction {
        vix::reveal(operator, request, args)
    }

    /// `finalize_request` with the committee's Operator PDAs (in `members` order) as remaining accounts.
    pub fn ix_finalize(&self, request: &Pubkey, r: &Request) -> Instruction {
        let extra = r.committee.members.iter().map(|m| AccountMeta::new(pda::operator(&m.operator), false)).collect();
        self.ix_finalize_with(request, r, extra)
    }

    /// `finalize_request` with explicit remaining accounts.
    pub fn ix_finalize_with(&self, request: &Pubkey, r: &Request, extra: Vec<AccountMeta>) -> Instruction {
        ix_with(
            verity::accounts::FinalizeRequest { payout: self.payout(request, r) },
            verity::instruction::FinalizeRequest {},
            extra,
        )
    }

    /// The accounts a settlement of `request`'s rounds pays through.
    pub fn payout(&self, request: &Pubkey, r: &Request) -> verity::accounts::Payout {
        verity::accounts::Payout {
            config: pda::config(),
            registry: pda::registry(),
            request: *request,
            requester: r.requester,
            model_owner: r.model_owner,
            treasury: self.treasury,
            stake_mint: self.stake_mint,
            stake_vault: pda::stake_vault(),
            treasury_stake: self.treasury_stake,
            token_program: spl_token::ID,
        }
    }

    pub fn ix_write_output(
        &self,
        writer: &Pubkey,
        request: &Pubkey,
        offset: u32,
        total_len: u32,
        data: &[u8],
    ) -> Instruction {
        vix::write_output(writer, request, WriteOutputArgs { offset, total_len, data: data.to_vec() })
    }

    pub fn ix_claim(&self, request: &Pubkey, operator: &Pubkey) -> Instruction {
        vix::claim(request, operator)
    }

    pub fn ix_close(&self, requester: &Pubkey, request: &Pubkey) -> Instruction {
        vix::close_request(requester, request)
    }

    pub fn ix_expire(&self, request: &Pubkey, requester: &Pubkey) -> Instruction {
        vix::expire(request, requester)
    }

    /// The on-chain request.
    pub async fn request(&mut self, key: &Pubkey) -> Request {
        self.env.account(key).await
    }

    /// A fresh requester holding `lamports`.
    pub async fn requester(&mut self, lamports: u64) -> Keypair {
        self.env.funded_keypair(lamports).await
    }

    /// Submits `args` for model `model` (index into `models`); returns the request address.
    pub async fn submit(&mut self, requester: &Keypair, model: usize, args: SubmitRequestArgs) -> Pubkey {
        let key = pda::request(&requester.pubkey(), args.nonce);
        let submit = self.ix_submit(&requester.pubkey(), &self.models[model].key, args);
        self.env.ok(&[submit], &[requester]).await;
        key
    }

    /// Advances two slots so SlotHashes holds a slot after the submit slot (and the submit slot itself).
    pub async fn make_seed_available(&mut self) {
        self.env.warp_by(1).await;
        self.env.warp_by(1).await;
    }

    /// Makes the seed available and assigns; returns the committee as indices into `operators`, draw order.
    pub async fn assign(&mut self, request: &Pubkey) -> Vec<usize> {
        self.make_seed_available().await;
        let assign = self.ix_assign(request);
        self.env.ok(&[assign], &[]).await;
        self.committee(request).await
    }

    /// The committee of `request` as indices into `operators` (panics if a member is unknown to the fixture).
    pub async fn committee(&mut self, request: &Pubkey) -> Vec<usize> {
        let r = self.request(request).await;
        r.committee
            .members
            .iter()
            .map(|m| {
                self.operators
                    .iter()
                    .position(|o| o.authority.pubkey() == m.operator)
                    .expect("committee member is a fixture operator")
            })
            .collect()
    }

    /// The output hash of `text` under model `model`'s profile.
    pub fn output_hash(&self, model: usize, text: &str) -> [u8; 32] {
        pda::output_hash(&self.models[model].params.profile_hash, text)
    }

    /// Operator `op` commits to `text` with salt `salt(op)`.
    pub async fn commit(&mut self, request: &Pubkey, op: usize, model: usize, text: &str) {
        let ix = self.ix_commit_text(request, op, model, text);
        let auth = self.operators[op].authority.insecure_clone();
        self.env.ok(&[ix], &[&auth]).await;
    }

    /// The commit instruction of operator `op` for `text` (salt `salt(op)`).
    pub fn ix_commit_text(&self, request: &Pubkey, op: usize, model: usize, text: &str) -> Instruction {
        let auth = self.operators[op].authority.pubkey();
        let c = pda::commitment(request, &auth, &self.output_hash(model, text), &salt(op));
        self.ix_commit(&auth, request, c)
    }

    /// The reveal instruction of operator `op` for `text` (salt `salt(op)`), reporting (tokens_in, tokens_out).
    pub fn ix_reveal_text(
        &self,
        request: &Pubkey,
        op: usize,
        model: usize,
        text: &str,
        tokens: (u32, u32),
    ) -> Instruction {
        let auth = self.operators[op].authority.pubkey();
        let args = RevealArgs {
            output_hash: self.output_hash(model, text),
            salt: salt(op),
            tokens_in: tokens.0,
            tokens_out: tokens.1,
        };
        self.ix_reveal(&auth, request, args)
    }

    /// `reveal_and_finalize` of operator `op` for `text` (salt `salt(op)`), offering `output` as the answer's bytes
    /// (`config`: the on-chain Config, for the payout accounts).
    #[allow(clippy::too_many_arguments)]
    pub fn ix_reveal_and_finalize(
        &self,
        config: &verity::state::Config,
        request: &Pubkey,
        r: &Request,
        op: usize,
        text: &str,
        tokens: (u32, u32),
        output: &[u8],
    ) -> Instruction {
        let auth = self.operators[op].authority.pubkey();
        let args = RevealArgs {
            output_hash: self.output_hash(0, text),
            salt: salt(op),
            tokens_in: tokens.0,
            tokens_out: tokens.1,
        };
        vix::reveal_and_finalize(&auth, config, request, r, args, output.to_vec())
    }

    /// Operator `op` reveals `text`.
    pub async fn reveal(&mut self, request: &Pubkey, op: usize, model: usize, text: &str, tokens: (u32, u32)) {
        let ix = self.ix_reveal_text(request, op, model, text, tokens);
        let auth = self.operators[op].authority.insecure_clone();
        self.env.ok(&[ix], &[&auth]).await;
    }

    /// Assigns `request`, then every member commits and reveals `text` (the round is then ready to finalize).
    pub async fn agree(&mut self, request: &Pubkey, text: &str) -> Vec<usize> {
        let c = self.assign(request).await;
        for &op in &c {
            self.commit(request, op, 0, text).await;
        }
        for &op in &c {
            self.reveal(request, op, 0, text, (4, 9)).await;
        }
        c
    }

    /// Finalizes `request` (anyone may; the fixture payer cranks it).
    pub async fn finalize(&mut self, request: &Pubkey) -> crate::TxOk {
        let r = self.request(request).await;
        let fin = self.ix_finalize(request, &r);
        self.env.ok(&[fin], &[]).await
    }

    /// Moves past the reveal deadline of `request` (or its commit deadline + reveal window if still committing).
    pub async fn pass_reveal_deadline(&mut self, request: &Pubkey) {
        let r = self.request(request).await;
        let end = if r.committee.reveal_deadline > 0 {
            r.committee.reveal_deadline
        } else {
            r.committee.commit_deadline + self.params.reveal_window
        };
        self.env.warp_to(end + 1).await;
    }

    /// Moves past the dispute window of a finalized `request`.
    pub async fn pass_dispute_window(&mut self, request: &Pubkey) {
        let r = self.request(request).await;
        let target = r.finalized_slot + self.params.dispute_window + 1;
        if self.env.slot().await < target {
            self.env.warp_to(target).await;
        }
    }

    /// Lamports held by operator `op`'s authority.
    pub async fn operator_lamports(&mut self, op: usize) -> u64 {
        let k = self.operators[op].authority.pubkey();
        self.env.lamports(&k).await
    }

    /// A fresh requester submitting the default request (nonce 1, model 0). Returns (requester, request).
    pub async fn submitted(&mut self) -> (Keypair, Pubkey) {
        let requester = self.requester(10 * crate::SOL).await;
        let args = submit_args(1, "Say hello.", DEFAULT_MAX_TOKENS, DEFAULT_FEE);
        let request = self.submit(&requester, 0, args).await;
        (requester, request)
    }

    /// [`Protocol::submitted`] then assigned. Returns (requester, request, committee as operator indices).
    pub async fn assigned(&mut self) -> (Keypair, Pubkey, Vec<usize>) {
        let (requester, request) = self.submitted().await;
        let committee = self.assign(&request).await;
        (requester, request, committee)
    }
}
