//! Long prompts on a [`Protocol`]: `create_prompt` / `write_prompt` / `close_prompt` instructions (the client
//! crate's), a helper that writes a whole prompt in chunks, and submit / close with a `Prompt` account.
use {
    crate::{fixture::Protocol, pda},
    anchor_lang::prelude::Pubkey,
    solana_instruction::Instruction,
    solana_keypair::Keypair,
    solana_signer::Signer,
    verity::SubmitRequestArgs,
    verity_client::{ix as vix, prompt as vp},
};

pub use verity_client::prompt::PROMPT_CHUNK;

/// Submit arguments for a prompt held in a `Prompt` account hashing to `hash` (inline prompt and URI empty).
pub fn prompt_account_args(nonce: u64, hash: [u8; 32], max_tokens: u32, fee: u64) -> SubmitRequestArgs {
    SubmitRequestArgs { prompt: Vec::new(), prompt_hash: Some(hash), ..crate::submit_args(nonce, "", max_tokens, fee) }
}

/// `n` bytes of varied English-looking text (deterministic).
pub fn long_text(n: usize) -> Vec<u8> {
    let words = ["verity ", "oracle ", "prompt ", "chunked ", "account ", "solana ", "committee ", "reveal "];
    let mut out = Vec::with_capacity(n + 16);
    let mut i = 0usize;
    while out.len() < n {
        out.extend_from_slice(words[(i * 7 + i / 3) % words.len()].as_bytes());
        i += 1;
    }
    out.truncate(n);
    out
}

impl Protocol {
    pub fn ix_create_prompt(&self, owner: &Pubkey, nonce: u64, len: u32, hash: [u8; 32]) -> Instruction {
        vp::create_prompt(owner, nonce, len, hash)
    }

    pub fn ix_write_prompt(&self, owner: &Pubkey, prompt: &Pubkey, offset: u32, data: &[u8]) -> Instruction {
        vp::write_prompt(owner, prompt, offset, data.to_vec())
    }

    pub fn ix_close_prompt(&self, owner: &Pubkey, prompt: &Pubkey) -> Instruction {
        vp::close_prompt(owner, prompt)
    }

    /// `submit_request` with the Prompt account `prompt`.
    pub fn ix_submit_with_prompt(
        &self,
        requester: &Pubkey,
        model: &Pubkey,
        args: SubmitRequestArgs,
        prompt: &Pubkey,
    ) -> Instruction {
        vix::submit_with(requester, model, args, Some(*prompt))
    }

    /// `close_request` passing `prompt` (the request's Prompt account, or None).
    pub fn ix_close_with_prompt(&self, requester: &Pubkey, request: &Pubkey, prompt: Option<Pubkey>) -> Instruction {
        vix::close_request_with(requester, request, prompt)
    }

    /// The on-chain Prompt account.
    pub async fn prompt_account(&mut self, key: &Pubkey) -> verity::Prompt {
        self.env.account(key).await
    }

    /// `owner` creates Prompt `nonce` for `bytes` (declared hash: their sha256) and writes all of them in
    /// [`PROMPT_CHUNK`]-byte chunks, one transaction each. Returns the Prompt address.
    pub async fn write_prompt(&mut self, owner: &Keypair, nonce: u64, bytes: &[u8]) -> Pubkey {
        let hash = pda::sha256(&[bytes]);
        self.write_prompt_upto(owner, nonce, bytes, hash, bytes.len()).await
    }

    /// Creates Prompt `nonce` of `owner` for `bytes` declared to hash to `hash`, and writes its first `upto` bytes.
    pub async fn write_prompt_upto(
        &mut self,
        owner: &Keypair,
        nonce: u64,
        bytes: &[u8],
        hash: [u8; 32],
        upto: usize,
    ) -> Pubkey {
        let key = pda::prompt(&owner.pubkey(), nonce);
        let len = u32::try_from(bytes.len()).expect("prompt length");
        let create = self.ix_create_prompt(&owner.pubkey(), nonce, len, hash);
        self.env.ok(&[create], &[owner]).await;
        for ixn in vp::write_instructions(&owner.pubkey(), &key, &bytes[..upto], 0, PROMPT_CHUNK) {
            self.env.ok(&[ixn], &[owner]).await;
        }
        key
    }

    /// Writes `bytes` into a new Prompt (nonce = the request's) and submits a request using it for model 0.
    /// Returns (request, prompt).
    pub async fn submit_long(
        &mut self,
        requester: &Keypair,
        nonce: u64,
        bytes: &[u8],
        max_tokens: u32,
        fee: u64,
    ) -> (Pubkey, Pubkey) {
        let prompt = self.write_prompt(requester, nonce, bytes).await;
        let args = prompt_account_args(nonce, pda::sha256(&[bytes]), max_tokens, fee);
        let submit = self.ix_submit_with_prompt(&requester.pubkey(), &self.models[0].key, args, &prompt);
        self.env.ok(&[submit], &[requester]).await;
        (pda::request(&requester.pubkey(), nonce), prompt)
    }
}
