//! `assign_dispute` (anyone, within `assign_window` slots of the opening slot): draws the 2k+1 committee of an
//! open dispute/escalation — stake-weighted over registry values in force at the opening slot, excluding the
//! first committee — seeded by sha256(hash of the first slot after the opening slot ‖ request ‖ round 1).
use {
    crate::{constants::*, errors::VerityError, events::DisputeCommitteeAssigned, logic::*, state::*},
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
        require!(a.dispute.phase == DisputePhase::Open, VerityError::DisputeNotOpen);
        let window_end = a.dispute.open_slot.checked_add(a.config.params.assign_window).ok_or(VerityError::MathOverflow)?;
        require!(now <= window_end, VerityError::AssignWindowClosed);
        let (seed_slot, seed) = {
            let data = a.slot_hashes.try_borrow_data()?;
            seed_from_slot_hashes(&data, a.dispute.open_slot, &request_key, a.request.round)?
        };
        let model_bit = 1u64.checked_shl(u32::from(a.request.model_index)).ok_or(VerityError::MathOverflow)?;
        let first: Vec<Pubkey> = a.request.members.iter().map(|m| m.operator).collect();
        let committee = draw_committee_excluding(
            &a.registry.entries,
            a.dispute.open_slot,
            model_bit,
            a.dispute.terms.min_stake,
            a.dispute.committee_size,
            &seed,
            &first,
        )?;
        for member in &committee {
            a.registry.adjust_open(member, true)?;
        }
        let window = a.dispute.terms.commit_window;
        a.dispute.assign(&committee, now, window)?;
        a.dispute.seed_slot = seed_slot;
        a.dispute.seed = seed;
        crate::emit_event!(DisputeCommitteeAssigned {
            request: request_key,
            dispute: a.dispute.key(),
            committee,
            seed_slot,
            seed,
            commit_deadline: a.dispute.commit_deadline,
        });
        Ok(())
    }
}
