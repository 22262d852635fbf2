//! `assign_committee` (anyone): draws the committee, stake-weighted from the registry, seeded by
//! sha256(hash of the first slot after submit_slot in SlotHashes ‖ request ‖ round). The seed is fixed per
//! request, so neither the requester nor the cranker can choose the committee.
use {
    crate::{constants::*, errors::VerityError, events::CommitteeAssigned, state::*},
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
        let spec = DrawSpec {
            opened: a.request.submit_slot,
            assign_window: a.config.params.assign_window,
            request: request_key,
            round: a.request.round,
            model_index: a.request.model_index,
            min_stake: a.request.terms.min_stake,
            size: a.request.committee_size,
            exclude: &[],
            commit_window: a.request.terms.commit_window,
        };
        let committee = a.request.draw(&mut a.registry, &a.slot_hashes.try_borrow_data()?, spec, now)?;
        crate::emit_event!(CommitteeAssigned {
            request: request_key,
            round: a.request.round,
            committee,
            seed_slot: a.request.committee.seed_slot,
            seed: a.request.committee.seed,
            commit_deadline: a.request.committee.commit_deadline,
        });
        Ok(())
    }
}
