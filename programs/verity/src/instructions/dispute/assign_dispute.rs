//! `assign_dispute` (anyone, within `assign_window` slots of the opening slot): draws the 2k+1 committee of an
//! open dispute/escalation — stake-weighted over registry values in force at the opening slot, excluding the
//! first committee — seeded by sha256(hash of the first slot after the opening slot ‖ request ‖ round 1).
use {
    crate::{constants::*, errors::VerityError, events::DisputeCommitteeAssigned, state::*},
    anchor_lang::{prelude::*, solana_program::sysvar::SysvarId},
};

#[derive(Accounts)]
pub struct AssignDispute<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [REGISTRY_SEED], bump = registry.bump)]
    pub registry: Box<Account<'info, OperatorRegistry>>,
    #[account(
        seeds = [REQUEST_SEED, request.requester.as_ref(), &request.nonce.to_le_bytes()],
        bump = request.bump,
    )]
    pub request: Box<Account<'info, Request>>,
    #[account(mut, seeds = [DISPUTE_SEED, request.key().as_ref()], bump = dispute.bump)]
    pub dispute: Box<Account<'info, Dispute>>,
    /// CHECK: the SlotHashes sysvar, parsed by hand (bounded).
    #[account(address = SlotHashes::id() @ VerityError::InvalidSlotHashes)]
    pub slot_hashes: UncheckedAccount<'info>,
}

impl AssignDispute<'_> {
    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let a = &mut *ctx.accounts;
        let now = Clock::get()?.slot;
        let request_key = a.request.key();
        let first: Vec<Pubkey> = a.request.committee.members.iter().map(|m| m.operator).collect();
        let spec = DrawSpec {
            opened: a.dispute.open_slot,
            assign_window: a.config.params.assign_window,
            request: request_key,
            round: a.request.round,
            model_index: a.request.model_index,
            min_stake: a.dispute.terms.min_stake,
            size: a.dispute.committee_size,
            exclude: &first,
            commit_window: a.dispute.terms.commit_window,
        };
        let committee = a.dispute.draw(&mut a.registry, &a.slot_hashes.try_borrow_data()?, spec, now)?;
        crate::emit_event!(DisputeCommitteeAssigned {
            request: request_key,
            dispute: a.dispute.key(),
            committee,
            seed_slot: a.dispute.committee.seed_slot,
            seed: a.dispute.committee.seed,
            commit_deadline: a.dispute.committee.commit_deadline,
        });
        Ok(())
    }
}
