//! `assign_committee` (anyone): draws the committee, stake-weighted from the registry, seeded by
//! sha256(hash of the first slot after submit_slot in SlotHashes ‖ request ‖ round). The seed is fixed per
//! request, so neither the requester nor the cranker can choose the committee.
use {
    crate::{constants::*, errors::VerityError, events::CommitteeAssigned, logic::*, state::*},
    anchor_lang::{prelude::*, solana_program::sysvar::SysvarId},
};

#[derive(Accounts)]
pub struct AssignCommittee<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [REGISTRY_SEED], bump = registry.bump)]
    pub registry: Box<Account<'info, OperatorRegistry>>,
    #[account(
        mut,
        seeds = [REQUEST_SEED, request.requester.as_ref(), &request.nonce.to_le_bytes()],
        bump = request.bump,
    )]
    pub request: Box<Account<'info, Request>>,
    /// CHECK: the SlotHashes sysvar, parsed by hand (bounded).
    #[account(address = SlotHashes::id() @ VerityError::InvalidSlotHashes)]
    pub slot_hashes: UncheckedAccount<'info>,
}

impl AssignCommittee<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let a = &mut *ctx.accounts;
        let now = Clock::get()?.slot;
        let request_key = a.request.key();
        require!(a.request.status == RequestStatus::Pending, VerityError::RequestNotPending);
        let window_end = a.request.submit_slot.checked_add(a.config.params.assign_window).ok_or(VerityError::MathOverflow)?;
        require!(now <= window_end, VerityError::AssignWindowClosed);
        let (seed_slot, seed) = {
            let data = a.slot_hashes.try_borrow_data()?;
            seed_from_slot_hashes(&data, a.request.submit_slot, &request_key, a.request.round)?
        };
        let model_bit = 1u64.checked_shl(u32::from(a.request.model_index)).ok_or(VerityError::MathOverflow)?;
        let committee = draw_committee(
            &a.registry.entries,
            a.request.submit_slot,
            model_bit,
            a.request.terms.min_stake,
            a.request.committee_size,
            &seed,
        )?;
        for member in &committee {
            a.registry.adjust_open(member, true)?;
        }
        let window = a.request.terms.commit_window;
        a.request.assign(&committee, now, window)?;
        a.request.seed_slot = seed_slot;
        a.request.seed = seed;
        crate::emit_event!(CommitteeAssigned {
            request: request_key,
            round: a.request.round,
            committee,
            seed_slot,
            seed,
            commit_deadline: a.request.commit_deadline,
        });
        Ok(())
    }
}
