//! `Output`: the winning answer's bytes, written in chunks by a majority member after finalize and checked
//! against the winning hash when the last chunk lands.
use {
    crate::{errors::VerityError, logic::output_hash},
    anchor_lang::prelude::*,
};

#[account]
#[derive(InitSpace, Debug)]
pub struct Output {
    pub request: Pubkey,
    /// Bytes reserved at submit (requester paid the rent).
    pub capacity: u32,
    /// Declared total length (set by the writes; fixed once complete).
    pub total_len: u32,
    /// True once `data` (total_len bytes) hashes to the request's winning hash.
    pub complete: bool,
    /// Member that wrote the last chunk: the writer; another majority member may take over only after
    /// `OUTPUT_HANDOVER_SLOTS` slots without a write.
    pub last_writer: Pubkey,
    /// Slot of the last write.
    pub last_write_slot: u64,
    pub bump: u8,
    /// Bytes written so far; `data.len()` is the write cursor.
    #[max_len(0)]
    pub data: Vec<u8>,
}

impl Output {
    /// Account size for `capacity` data bytes.
    pub fn space(capacity: u32) -> usize {
        8usize.saturating_add(Output::INIT_SPACE).saturating_add(capacity as usize)
    }

    /// Writes `chunk` at `offset` for `writer` at slot `now` (≤ bytes written so far; earlier bytes may be
    /// rewritten, later ones are dropped). While an output is in progress only its writer may write, until it
    /// makes no progress for `OUTPUT_HANDOVER_SLOTS` slots (`OutputWriterBusy`). When the write reaches
    /// `total_len`, the bytes must hash to `winning_hash` under `profile_hash`. Returns whether the output is
    /// now complete.
    #[allow(clippy::too_many_arguments)]
    pub fn write(
        &mut self,
        writer: &Pubkey,
        now: u64,
        offset: u32,
        total_len: u32,
        chunk: &[u8],
        profile_hash: &[u8; 32],
        winning_hash: &[u8; 32],
    ) -> Result<bool> {
        require!(!self.complete, VerityError::OutputAlreadyComplete);
        if !self.data.is_empty() && self.last_writer != *writer {
            let handover = self.last_write_slot.saturating_add(crate::constants::OUTPUT_HANDOVER_SLOTS);
            require!(now > handover, VerityError::OutputWriterBusy);
        }
        require!(total_len <= self.capacity, VerityError::OutputTooLarge);
        let offset = offset as usize;
        let end = offset.checked_add(chunk.len()).ok_or(VerityError::MathOverflow)?;
        require!(offset <= self.data.len(), VerityError::OutputChunkOutOfRange);
        require!(end <= total_len as usize, VerityError::OutputChunkOutOfRange);
        self.data.truncate(offset);
        self.data.extend_from_slice(chunk);
        self.total_len = total_len;
        self.last_writer = *writer;
        self.last_write_slot = now;
        if end == total_len as usize {
            require!(output_hash(profile_hash, &self.data) == *winning_hash, VerityError::OutputHashMismatch);
            self.complete = true;
        }
        Ok(self.complete)
    }

    /// Clears the bytes (a dispute replaced the winning hash; the new majority writes the output).
    pub fn reset(&mut self) {
        self.data.clear();
        self.total_len = 0;
        self.complete = false;
        self.last_writer = Pubkey::default();
        self.last_write_slot = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Pubkey = Pubkey::new_from_array([9; 32]);

    fn out(capacity: u32) -> Output {
        Output {
            request: Pubkey::default(),
            capacity,
            total_len: 0,
            complete: false,
            last_writer: Pubkey::default(),
            last_write_slot: 0,
            bump: 0,
            data: vec![],
        }
    }

    #[test]
    fn chunked_write_checks_hash() {
        let profile = [3u8; 32];
        let text = b"hello world";
        let win = output_hash(&profile, text);
        let mut o = out(16);
        assert!(!o.write(&W, 0, 0, 11, b"hello", &profile, &win).unwrap());
        assert_eq!(o.write(&W, 0, 6, 11, b"x", &profile, &win).unwrap_err(), VerityError::OutputChunkOutOfRange.into());
        assert_eq!(
            o.write(&W, 0, 5, 11, b" world!", &profile, &win).unwrap_err(),
            VerityError::OutputChunkOutOfRange.into()
        );
        assert_eq!(
            o.write(&W, 0, 5, 11, b" worle", &profile, &win).unwrap_err(),
            VerityError::OutputHashMismatch.into()
        );
        assert!(o.write(&W, 0, 5, 11, b" world", &profile, &win).unwrap());
        assert_eq!(o.data, text);
        assert_eq!(o.write(&W, 0, 0, 11, b"h", &profile, &win).unwrap_err(), VerityError::OutputAlreadyComplete.into());
    }

    /// tests/BUGS.md #8: another member cannot truncate an output in progress until the hand-over grace passed.
    #[test]
    fn one_writer_until_the_handover() {
        let (profile, other) = ([3u8; 32], Pubkey::new_from_array([8; 32]));
        let win = output_hash(&profile, b"hello world");
        let mut o = out(16);
        o.write(&W, 10, 0, 11, b"hello", &profile, &win).unwrap();
        let busy = o.write(&other, 30, 0, 11, b"junk", &profile, &win).unwrap_err();
        assert_eq!(busy, VerityError::OutputWriterBusy.into());
        assert_eq!(o.data, b"hello");
        o.write(&W, 30, 5, 11, b" wor", &profile, &win).unwrap();
        assert_eq!(
            o.write(&other, 50, 0, 3, b"abc", &profile, &win).unwrap_err(),
            VerityError::OutputWriterBusy.into()
        );
        // After 20 slots without progress the other member takes over and completes it.
        assert!(o.write(&other, 51, 0, 11, b"hello world", &profile, &win).unwrap());
        assert_eq!(o.last_writer, other);
    }

    #[test]
    fn capacity_bound() {
        let mut o = out(4);
        let e = o.write(&W, 0, 0, 5, b"abc", &[0; 32], &[0; 32]).unwrap_err();
        assert_eq!(e, VerityError::OutputTooLarge.into());
    }
}
