//! `open_dispute` (anyone): starts the second round of a request. On an `Escalated` request (first round without
//! a strict majority) it opens the escalation, no bond. On a `Finalized` request within the dispute window it
//! opens a challenge: the challenger posts `Config.dispute_bond` lamports (escrowed in the Dispute account) and
//! the first majority's open assignments are held until the verdict. One per request (`AlreadyDisputed`). The
//! committee is drawn later by `assign_dispute`, seeded by the first slot hash after the opening slot.
use {
    crate::{constants::*, errors::VerityError, events::DisputeOpened, state::*},
    anchor_lang::{
        prelude::*,
        system_program::{transfer, Transfer},
    },
};

#[derive(Accounts)]
pub struct OpenDispute<'info> {
    /// Pays the Dispute account's rent (returned by `close_dispute`) and, for a challenge, the bond.
    #[account(mut)]
    pub challenger: Signer<'info>,
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
    /// Created here; `init_if_needed` only so that a second dispute fails with `AlreadyDisputed` (checked on the
    /// request's round and on this account being fresh) rather than a system-program error.
    #[account(
        init_if_needed,
        payer = challenger,
        space = 8 + Dispute::INIT_SPACE,
        seeds = [DISPUTE_SEED, request.key().as_ref()],
        bump,
    )]
    pub dispute: Box<Account<'info, Dispute>>,
    pub system_program: Program<'info, System>,
}

impl OpenDispute<'_> {
    pub fn validate(&self) -> Result<()> {
        require!(self.request.round == 0, VerityError::AlreadyDisputed);
        require_keys_eq!(self.dispute.request, Pubkey::default(), VerityError::AlreadyDisputed);
        Ok(())
    }

    pub fn handler(ctx: Context<Self>) -> Result<()> {
        let a = &mut *ctx.accounts;
        let now = Clock::get()?.slot;
        let request_key = a.request.key();
        let p = a.config.params;
        let (kind, bond, original_hash) = match a.request.status {
            RequestStatus::Escalated => (DisputeKind::Escalation, 0, [0; 32]),
            _ => {
                a.request.check_challengeable(now)?;
                (DisputeKind::Challenge, p.dispute_bond, a.request.winning_hash)
            }
        };
        // A challenge holds the first majority's open assignments, so they cannot withdraw before the verdict.
        // Every Agreed member is still in the registry: finalize locked its entry until the dispute window ends,
        // and a locked entry is never removed (`RegistryEntry::removable`).
        let mut locked_first: u16 = 0;
        if kind == DisputeKind::Challenge {
            for (i, m) in a.request.committee.members.iter().enumerate() {
                if m.outcome == Outcome::Agreed {
                    a.registry.adjust_open(&m.operator, true)?;
                    locked_first |=
                        1u16.checked_shl(u32::try_from(i).map_err(|_| VerityError::MathOverflow)?).unwrap_or(0);
                }
            }
            a.request.status = RequestStatus::Disputed;
        }
        a.request.round = 1;
        a.dispute.set_inner(Dispute {
            request: request_key,
            kind,
            phase: DisputePhase::Open,
            verdict: Verdict::Pending,
            opener: a.challenger.key(),
            bond,
            challenger_reward: 0,
            original_hash,
            winning_hash: [0; 32],
            committee_size: Dispute::size_for(a.request.committee_size),
            max_tokens: a.request.max_tokens,
            open_slot: now,
            resolved_slot: 0,
            committee: Round::default(),
            locked_first,
            rewards_total: 0,
            rewards_claimed: 0,
            bump: ctx.bumps.dispute,
            terms: RequestTerms { min_stake: p.min_stake, ..a.request.terms },
        });
        if bond > 0 {
            let cpi = Transfer { from: a.challenger.to_account_info(), to: a.dispute.to_account_info() };
            transfer(CpiContext::new(a.system_program.key(), cpi), bond)?;
        }
        crate::emit_event!(DisputeOpened {
            request: request_key,
            dispute: a.dispute.key(),
            kind,
            opener: a.challenger.key(),
            bond,
            open_slot: now,
            request_status: a.request.status,
        });
        Ok(())
    }
}
