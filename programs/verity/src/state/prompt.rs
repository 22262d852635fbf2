//! `Prompt`: a long prompt (up to [`MAX_LONG_PROMPT_BYTES`]) its owner writes in sequential chunks before
//! `submit_request`, which checks it complete and hashing to its declared hash and attaches it to the request:
//! from then on it is read-only and closes only together with that request (`close_request`).
use {
    crate::{constants::*, errors::VerityError, logic::sha256},
    anchor_lang::{prelude::*, solana_program::entrypoint::MAX_PERMITTED_DATA_INCREASE},
};

#[account]
#[derive(InitSpace, Debug)]
pub struct Prompt {
    /// Creator, writer and (as the requester) the only one who can attach it to a request; gets the rent back.
    pub owner: Pubkey,
    /// Owner-chosen; PDA seed [`PROMPT_SEED`, owner, nonce LE].
    pub nonce: u64,
    /// Declared length in bytes (1..=[`MAX_LONG_PROMPT_BYTES`]); the account has room for exactly this much.
    pub len: u32,
    /// Declared sha256 of the `len` bytes; `submit_request` checks the written bytes against it.
    pub hash: [u8; 32],
    /// Bytes written so far (= `data.len()`); the next chunk starts here.
    pub written: u32,
    /// The request it is attached to (set by `submit_request`): then no write, no `close_prompt`.
    pub request: Option<Pubkey>,
    pub bump: u8,
    /// The bytes written so far.
    #[max_len(0)]
    pub data: Vec<u8>,
}

// The largest Prompt must fit what one instruction may allocate for an account it creates by CPI.
const _: () = assert!(Prompt::space(MAX_LONG_PROMPT_BYTES) <= MAX_PERMITTED_DATA_INCREASE);

impl Prompt {
    /// Account size for a prompt of `len` bytes.
    pub const fn space(len: u32) -> usize {
        8usize.saturating_add(<Prompt as anchor_lang::Space>::INIT_SPACE).saturating_add(len as usize)
    }

    /// A fresh, empty prompt of `len` bytes declared to hash to `hash` (`len` ∉ 1..=max: `PromptLengthInvalid`).
    pub fn new(owner: Pubkey, nonce: u64, len: u32, hash: [u8; 32], bump: u8) -> Result<Prompt> {
        require!((1..=MAX_LONG_PROMPT_BYTES).contains(&len), VerityError::PromptLengthInvalid);
        Ok(Prompt { owner, nonce, len, hash, written: 0, request: None, bump, data: Vec::new() })
    }

    /// Appends `chunk` at `offset`, which must be exactly the bytes written so far (`PromptChunkOutOfOrder`: a
    /// gap or an overlap); a non-empty chunk that stays within `len` (`PromptChunkOutOfRange`); never once
    /// attached (`PromptAttached`).
    pub fn write(&mut self, offset: u32, chunk: &[u8]) -> Result<()> {
        require!(self.request.is_none(), VerityError::PromptAttached);
        require!(offset == self.written, VerityError::PromptChunkOutOfOrder);
        let chunk_len = u32::try_from(chunk.len()).map_err(|_| VerityError::PromptChunkOutOfRange)?;
        let end = self.written.checked_add(chunk_len).ok_or(VerityError::MathOverflow)?;
        require!(chunk_len > 0 && end <= self.len, VerityError::PromptChunkOutOfRange);
        self.data.extend_from_slice(chunk);
        self.written = end;
        Ok(())
    }

    /// Whether a request for a model accepting `max_input_bytes` may use this prompt, the request's arguments
    /// claiming `claimed` as its hash: not attached yet (`PromptAttached`), completely written
    /// (`PromptIncomplete`), within the model's limit (`PromptTooLarge`), and `claimed` = the declared hash =
    /// sha256 of the bytes (`PromptHashMismatch`). Returns the hash.
    pub fn check_usable(&self, claimed: Option<[u8; 32]>, max_input_bytes: u32) -> Result<[u8; 32]> {
        require!(self.request.is_none(), VerityError::PromptAttached);
        require!(self.written == self.len && self.data.len() == self.len as usize, VerityError::PromptIncomplete);
        require!(self.len <= max_input_bytes, VerityError::PromptTooLarge);
        require!(claimed == Some(self.hash), VerityError::PromptHashMismatch);
        require!(sha256(&self.data) == self.hash, VerityError::PromptHashMismatch);
        Ok(self.hash)
    }

    /// Attaches the prompt to `request` (checked by [`Prompt::check_usable`]): read-only from now on.
    pub fn attach(&mut self, request: Pubkey) -> Result<()> {
        require!(self.request.is_none(), VerityError::PromptAttached);
        self.request = Some(request);
        Ok(())
    }

    /// Whether `close_prompt` may close it: only while no request uses it (`PromptAttached`).
    pub fn check_closable(&self) -> Result<()> {
        require!(self.request.is_none(), VerityError::PromptAttached);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(text: &[u8]) -> Prompt {
        let len = u32::try_from(text.len()).unwrap();
        Prompt::new(Pubkey::new_from_array([1; 32]), 7, len, sha256(text), 255).unwrap()
    }

    fn code(r: Result<impl std::fmt::Debug>) -> anchor_lang::error::Error {
        r.unwrap_err()
    }

    #[test]
    fn length_bounds() {
        let new = |len| Prompt::new(Pubkey::default(), 0, len, [0; 32], 0).map(|p| p.len);
        assert_eq!(code(new(0)), VerityError::PromptLengthInvalid.into());
        assert_eq!(code(new(MAX_LONG_PROMPT_BYTES + 1)), VerityError::PromptLengthInvalid.into());
        assert_eq!(new(MAX_LONG_PROMPT_BYTES).unwrap(), MAX_LONG_PROMPT_BYTES);
        assert_eq!(new(1).unwrap(), 1);
    }

    #[test]
    fn sequential_chunks_only() {
        let mut p = prompt(b"hello world");
        p.write(0, b"hello").unwrap();
        assert_eq!(code(p.write(6, b"world")), VerityError::PromptChunkOutOfOrder.into(), "gap");
        assert_eq!(code(p.write(4, b"o world")), VerityError::PromptChunkOutOfOrder.into(), "overlap");
        assert_eq!(code(p.write(5, b"")), VerityError::PromptChunkOutOfRange.into(), "empty");
        assert_eq!(code(p.write(5, b" world!")), VerityError::PromptChunkOutOfRange.into(), "past len");
        assert_eq!(code(p.check_usable(Some(p.hash), 100)), VerityError::PromptIncomplete.into());
        p.write(5, b" world").unwrap();
        assert_eq!((p.written, p.data.as_slice()), (11, &b"hello world"[..]));
        assert_eq!(code(p.write(11, b"x")), VerityError::PromptChunkOutOfRange.into(), "complete");
    }

    #[test]
    fn usable_once_complete_and_matching() {
        let mut p = prompt(b"abc");
        p.write(0, b"abc").unwrap();
        let h = p.hash;
        assert_eq!(code(p.check_usable(Some(h), 2)), VerityError::PromptTooLarge.into());
        assert_eq!(code(p.check_usable(None, 3)), VerityError::PromptHashMismatch.into());
        assert_eq!(code(p.check_usable(Some([9; 32]), 3)), VerityError::PromptHashMismatch.into());
        assert_eq!(p.check_usable(Some(h), 3).unwrap(), h);
        let mut wrong = prompt(b"abc");
        wrong.write(0, b"abd").unwrap();
        assert_eq!(code(wrong.check_usable(Some(h), 3)), VerityError::PromptHashMismatch.into(), "bytes ≠ hash");
    }

    #[test]
    fn attached_prompts_are_read_only() {
        let mut p = prompt(b"ab");
        p.write(0, b"a").unwrap();
        p.check_closable().unwrap();
        p.write(1, b"b").unwrap();
        p.attach(Pubkey::new_from_array([5; 32])).unwrap();
        let attached: anchor_lang::error::Error = VerityError::PromptAttached.into();
        assert_eq!(code(p.check_usable(Some(p.hash), 10)), attached, "a second request");
        assert_eq!(code(p.attach(Pubkey::new_from_array([6; 32]))), attached);
        assert_eq!(code(p.check_closable()), attached);
        assert_eq!(code(p.write(2, b"c")), attached);
        assert_eq!(p.request, Some(Pubkey::new_from_array([5; 32])));
    }
}
