//! Tools for adversarial tests: tamper with an instruction's account list (drop a signature, swap an account),
//! plant attacker-crafted accounts in the bank, and derive non-canonical PDAs.
use {
    crate::env::Env,
    anchor_lang::{prelude::Pubkey, AccountSerialize},
    solana_account::{Account, AccountSharedData},
    solana_instruction::Instruction,
};

/// `ix` with `key` no longer marked as a signer (the transaction then carries no signature for it).
pub fn strip_signer(mut ix: Instruction, key: &Pubkey) -> Instruction {
    let mut found = false;
    for m in ix.accounts.iter_mut().filter(|m| m.pubkey == *key) {
        m.is_signer = false;
        found = true;
    }
    assert!(found, "{key} is not an account of the instruction");
    ix
}

/// `ix` with every occurrence of account `old` replaced by `new` (flags kept).
pub fn swap_account(mut ix: Instruction, old: &Pubkey, new: &Pubkey) -> Instruction {
    let mut found = false;
    for m in ix.accounts.iter_mut().filter(|m| m.pubkey == *old) {
        m.pubkey = *new;
        found = true;
    }
    assert!(found, "{old} is not an account of the instruction");
    ix
}

/// `ix` with the account at position `index` replaced by `new` (flags kept).
pub fn swap_at(mut ix: Instruction, index: usize, new: &Pubkey) -> Instruction {
    ix.accounts[index].pubkey = *new;
    ix
}

/// An address derived from `seeds` with a bump below the canonical one (a valid off-curve PDA of the Verity
/// program that `find_program_address` would never return). Returns (address, bump).
pub fn non_canonical_pda(seeds: &[&[u8]]) -> (Pubkey, u8) {
    let (_, canonical) = Pubkey::find_program_address(seeds, &verity::ID);
    for bump in (0..canonical).rev() {
        let mut with_bump: Vec<&[u8]> = seeds.to_vec();
        let b = [bump];
        with_bump.push(&b);
        if let Ok(addr) = Pubkey::create_program_address(&with_bump, &verity::ID) {
            return (addr, bump);
        }
    }
    panic!("no non-canonical bump below {canonical}");
}

impl Env {
    /// Plants an account with arbitrary owner and data (what an attacker's own program could create).
    pub async fn plant(&mut self, key: &Pubkey, owner: &Pubkey, data: Vec<u8>) {
        let lamports = self.rent_exempt(data.len()).await.max(1);
        let acct = Account { lamports, data, owner: *owner, executable: false, rent_epoch: 0 };
        self.ctx.set_account(key, &AccountSharedData::from(acct));
    }

    /// Plants a copy of the account at `from` (same data) at `to`, owned by `owner`.
    pub async fn plant_copy(&mut self, from: &Pubkey, to: &Pubkey, owner: &Pubkey) {
        let data = self.get_account(from).await.unwrap_or_else(|| panic!("{from} missing")).data;
        self.plant(to, owner, data).await;
    }

    /// Plants an Anchor account value (discriminator + Borsh) at `key`, owned by `owner`.
    pub async fn plant_anchor<T: AccountSerialize>(&mut self, key: &Pubkey, owner: &Pubkey, value: &T, len: usize) {
        let mut data = Vec::with_capacity(len);
        value.try_serialize(&mut data).expect("serialize account");
        data.resize(len.max(data.len()), 0);
        self.plant(key, owner, data).await;
    }
}
