//! Long prompts: the `create_prompt` / `write_prompt` / `close_prompt` builders and the plan that puts a prompt
//! longer than an inline one ([`verity::MAX_PROMPT_BYTES`]) into a `Prompt` account in transaction-sized chunks.
use {
    crate::{ix::ix, pda},
    anchor_lang::prelude::Pubkey,
    solana_instruction::Instruction,
    verity::{accounts as a, instruction as i},
};

/// Chunk size of [`write_instructions`] that fits a legacy transaction paid by another key than the owner (two
/// signatures) with a compute-budget instruction (≈ 360 bytes besides the chunk); alone (the owner pays) ≈ 1000 fit.
pub const PROMPT_CHUNK: usize = 800;

/// `create_prompt` by `owner`: an empty Prompt PDA for `len` bytes declared to hash to `hash`.
pub fn create_prompt(owner: &Pubkey, nonce: u64, len: u32, hash: [u8; 32]) -> Instruction {
    ix(
        a::CreatePrompt {
            owner: *owner,
            prompt: pda::prompt(owner, nonce),
            system_program: anchor_lang::system_program::ID,
        },
        i::CreatePrompt { nonce, len, hash },
    )
}

/// `write_prompt` by `owner`: `data` at `offset` (= the bytes written so far) of the Prompt `prompt`.
pub fn write_prompt(owner: &Pubkey, prompt: &Pubkey, offset: u32, data: Vec<u8>) -> Instruction {
    ix(a::WritePrompt { owner: *owner, prompt: *prompt }, i::WritePrompt { offset, data })
}

/// `close_prompt` by `owner` of its unattached Prompt `prompt` (rent back to the owner).
pub fn close_prompt(owner: &Pubkey, prompt: &Pubkey) -> Instruction {
    ix(a::ClosePrompt { owner: *owner, prompt: *prompt }, i::ClosePrompt {})
}

/// The `write_prompt` instructions that fill the Prompt `prompt` with `bytes` from `from` on, `chunk` bytes
/// each (`chunk` ≥ 1), in order (each must land before the next: they are sequential).
pub fn write_instructions(
    owner: &Pubkey,
    prompt: &Pubkey,
    bytes: &[u8],
    from: usize,
    chunk: usize,
) -> Vec<Instruction> {
    let chunk = chunk.max(1);
    bytes
        .get(from..)
        .unwrap_or_default()
        .chunks(chunk)
        .enumerate()
        .filter_map(|(n, c)| {
            let offset = u32::try_from(from.checked_add(n.checked_mul(chunk)?)?).ok()?;
            Some(write_prompt(owner, prompt, offset, c.to_vec()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use {super::*, anchor_lang::AnchorDeserialize};

    #[test]
    fn chunks_cover_the_prompt_in_order() {
        let (owner, nonce) = (Pubkey::new_unique(), 9);
        let prompt = pda::prompt(&owner, nonce);
        let bytes: Vec<u8> = (0..2_000u32).map(|x| x as u8).collect();
        let ixs = write_instructions(&owner, &prompt, &bytes, 100, 800);
        assert_eq!(ixs.len(), 3);
        let mut rebuilt = bytes[..100].to_vec();
        for (n, x) in ixs.iter().enumerate() {
            assert!(x.accounts.iter().any(|m| m.pubkey == owner && m.is_signer));
            assert!(x.accounts.iter().any(|m| m.pubkey == prompt && m.is_writable));
            let args = i::WritePrompt::deserialize(&mut &x.data[8..]).unwrap();
            assert_eq!(args.offset as usize, 100 + n * 800);
            rebuilt.extend(args.data);
        }
        assert_eq!(rebuilt, bytes);
        assert!(write_instructions(&owner, &prompt, &bytes, 2_000, 800).is_empty());
        assert_eq!(create_prompt(&owner, nonce, 2_000, [0; 32]).accounts[1].pubkey, prompt);
    }
}
