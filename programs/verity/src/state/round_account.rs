//! `RoundAccount`: the round transitions of an account that embeds a [`Round`] (`Request`, `Dispute`) — draw,
//! assign, commit, reveal — written once over the account's own phase field, with the events of each step
//! (`RoundEvents`), for both accounts by one `round_accounts!`.
use {
    crate::{
        errors::VerityError,
        events::*,
        logic::{draw_committee_excluding, seed_from_slot_hashes},
        state::{Dispute, DisputePhase, OperatorRegistry, Request, RequestStatus, RequestTerms, Round, RoundPhase},
    },
    anchor_lang::prelude::*,
};

/// What a committee draw needs besides the round account, the registry and the SlotHashes data.
#[derive(Clone, Copy, Debug)]
pub struct DrawSpec<'a> {
    /// Slots after the round's opening slot within which the committee must be drawn.
    pub assign_window: u64,
    pub request: Pubkey,
    /// The request's round number (0 first, 1 second), part of the seed.
    pub round: u8,
    pub model_index: u8,
    /// Authorities that may not sit in this committee (the first committee, for a second round).
    pub exclude: &'a [Pubkey],
}

/// An account that embeds a [`Round`] as `committee` and stores its phase in its own status enum (`Request`:
/// the first round; `Dispute`: the second). The round's transitions are written once, here.
pub trait RoundAccount {
    /// The error for assigning a committee outside the drawing phase.
    const NOT_DRAWING: VerityError;
    fn committee_mut(&mut self) -> &mut Round;
    /// The round's phase as the account stores it.
    fn round_phase(&self) -> RoundPhase;
    fn set_round_phase(&mut self, phase: RoundPhase);
    /// The bound on a reveal's tokens out.
    fn max_tokens_out(&self) -> u32;
    /// The slot the round opened at (submit / dispute opening): the seed is the first slot hash after it, the
    /// registry values in force at it are drawn, and the assign window counts from it.
    fn opened_slot(&self) -> u64;
    /// Members to draw.
    fn committee_size(&self) -> u8;
    /// Windows, min stake and slash shares of the round.
    fn terms(&self) -> &RequestTerms;
    /// Lamports of member rewards claimed from this account so far.
    fn rewards_claimed_mut(&mut self) -> &mut u64;
    /// Whether the round's rewards may be claimed at `now`.
    fn check_claimable(&self, now: u64) -> Result<()>;

    /// Draws the committee (stake-weighted over the registry values in force at the opening slot, seeded by
    /// the first slot hash after it), counts the members' open assignments and installs it; returns it.
    fn draw(
        &mut self,
        registry: &mut OperatorRegistry,
        slot_hashes: &[u8],
        spec: DrawSpec,
        now: u64,
    ) -> Result<Vec<Pubkey>> {
        require!(self.round_phase() == RoundPhase::Drawing, Self::NOT_DRAWING);
        let (opened, terms) = (self.opened_slot(), *self.terms());
        let window_end = opened.checked_add(spec.assign_window).ok_or(VerityError::MathOverflow)?;
        require!(now <= window_end, VerityError::AssignWindowClosed);
        let (seed_slot, seed) = seed_from_slot_hashes(slot_hashes, opened, &spec.request, spec.round)?;
        let model_bit = 1u64.checked_shl(u32::from(spec.model_index)).ok_or(VerityError::MathOverflow)?;
        let size = self.committee_size();
        let committee =
            draw_committee_excluding(&registry.entries, opened, model_bit, terms.min_stake, size, &seed, spec.exclude)?;
        for member in &committee {
            registry.adjust_open(member, true)?;
        }
        self.assign(&committee, now, terms.commit_window)?;
        let round = self.committee_mut();
        round.seed_slot = seed_slot;
        round.seed = seed;
        Ok(committee)
    }

    /// Installs the drawn committee and opens the commit phase.
    fn assign(&mut self, committee: &[Pubkey], now: u64, commit_window: u64) -> Result<()> {
        require!(self.round_phase() == RoundPhase::Drawing, Self::NOT_DRAWING);
        let phase = self.committee_mut().assign(committee, now, commit_window)?;
        self.set_round_phase(phase);
        Ok(())
    }

    /// Committing → Revealing once the commit deadline has passed (reveal deadline counted from it).
    fn open_reveal_if_due(&mut self, now: u64) -> Result<()> {
        let (phase, reveal_window) = (self.round_phase(), self.terms().reveal_window);
        let phase = self.committee_mut().open_reveal_if_due(phase, now, reveal_window)?;
        self.set_round_phase(phase);
        Ok(())
    }

    /// Records member `i`'s commitment; the reveal phase opens when every member has committed.
    fn commit(&mut self, i: usize, commitment: [u8; 32], now: u64) -> Result<()> {
        let (phase, reveal_window) = (self.round_phase(), self.terms().reveal_window);
        let phase = self.committee_mut().commit(phase, i, commitment, now, reveal_window)?;
        self.set_round_phase(phase);
        Ok(())
    }

    /// `commit_result` / `commit_dispute`: records `operator`'s commitment.
    fn commit_by(&mut self, operator: &Pubkey, commitment: [u8; 32], now: u64) -> Result<()> {
        let i = self.committee_mut().member_index(operator)?;
        self.commit(i, commitment, now)
    }

    /// `reveal_result` / `reveal_dispute`: opens the reveal phase if due, then checks and records `operator`'s
    /// reveal (bound to this account's `key`).
    fn reveal_by(
        &mut self,
        key: &Pubkey,
        operator: &Pubkey,
        output_hash: [u8; 32],
        salt: [u8; 32],
        tokens: (u32, u32),
        now: u64,
    ) -> Result<()> {
        self.open_reveal_if_due(now)?;
        let i = self.committee_mut().member_index(operator)?;
        self.reveal(key, i, output_hash, salt, tokens, now)
    }

    /// Checks member `i`'s reveal against its commitment (bound to this account's key) and records it. Call
    /// `open_reveal_if_due` first.
    fn reveal(
        &mut self,
        key: &Pubkey,
        i: usize,
        output_hash: [u8; 32],
        salt: [u8; 32],
        tokens: (u32, u32),
        now: u64,
    ) -> Result<()> {
        let (phase, max_tokens) = (self.round_phase(), self.max_tokens_out());
        self.committee_mut().reveal(phase, key, i, output_hash, salt, tokens, max_tokens, now)
    }
}

/// Implements [`RoundAccount`] and [`RoundEvents`] for accounts that embed their [`Round`] as `committee`, each
/// given as `Type { phase: field as Enum { drawing, committing, revealing }, not_drawing: error, opened: slot
/// field, events: key field, phase field, assigned event { extra field: source field }, committed, revealed,
/// claimed }`. A phase value other than the three is closed.
macro_rules! round_accounts {
    ($($ty:ident {
        phase: $field:ident as $Enum:ident { $drawing:ident, $committing:ident, $revealing:ident },
        not_drawing: $not_drawing:ident,
        opened: $opened:ident,
        events: $key:ident, $Assigned:ident { $xf:ident: $xsrc:ident },
            $Committed:ident, $Revealed:ident, $Claimed:ident $(,)?
    });* $(;)?) => {$(
        impl RoundAccount for $ty {
            const NOT_DRAWING: VerityError = VerityError::$not_drawing;
            fn committee_mut(&mut self) -> &mut Round {
                &mut self.committee
            }
            fn round_phase(&self) -> RoundPhase {
                match self.$field {
                    $Enum::$drawing => RoundPhase::Drawing,
                    $Enum::$committing => RoundPhase::Committing,
                    $Enum::$revealing => RoundPhase::Revealing,
                    #[allow(unreachable_patterns)]
                    _ => RoundPhase::Closed,
                }
            }
            fn set_round_phase(&mut self, phase: RoundPhase) {
                match phase {
                    RoundPhase::Committing => self.$field = $Enum::$committing,
                    RoundPhase::Revealing => self.$field = $Enum::$revealing,
                    RoundPhase::Drawing | RoundPhase::Closed => {}
                }
            }
            fn max_tokens_out(&self) -> u32 {
                self.max_tokens
            }
            fn opened_slot(&self) -> u64 {
                self.$opened
            }
            fn committee_size(&self) -> u8 {
                self.committee_size
            }
            fn terms(&self) -> &RequestTerms {
                &self.terms
            }
            fn rewards_claimed_mut(&mut self) -> &mut u64 {
                &mut self.rewards_claimed
            }
            fn check_claimable(&self, now: u64) -> Result<()> {
                $ty::check_claimable(self, now)
            }
        }

        impl RoundEvents for $ty {
            type Assigned = $Assigned;
            type Committed = $Committed;
            type Revealed = $Revealed;
            type Claimed = $Claimed;
            fn assigned(&self, key: Pubkey, committee: Vec<Pubkey>) -> $Assigned {
                let c = &self.committee;
                let (seed_slot, seed, commit_deadline) = (c.seed_slot, c.seed, c.commit_deadline);
                $Assigned { $key: key, $xf: self.$xsrc, committee, seed_slot, seed, commit_deadline }
            }
            fn committed(&self, key: Pubkey, operator: Pubkey) -> $Committed {
                let c = &self.committee;
                let (committed_count, reveal_deadline) = (c.committed_count, c.reveal_deadline);
                $Committed { $key: key, operator, committed_count, $field: self.$field, reveal_deadline }
            }
            fn revealed(&self, key: Pubkey, operator: Pubkey, output_hash: [u8; 32]) -> $Revealed {
                $Revealed { $key: key, operator, output_hash, revealed_count: self.committee.revealed_count }
            }
            fn claimed(&self, key: Pubkey, operator: Pubkey, amount: u64) -> $Claimed {
                $Claimed { $key: key, operator, amount, rewards_claimed: self.rewards_claimed }
            }
        }
    )*};
}

round_accounts! {
    Request {
        phase: status as RequestStatus { Pending, Committing, Revealing },
        not_drawing: RequestNotPending,
        opened: submit_slot,
        events: request, CommitteeAssigned { round: round },
            ResultCommitted, ResultRevealed, RewardClaimed,
    };
    Dispute {
        phase: phase as DisputePhase { Open, Committing, Revealing },
        not_drawing: DisputeNotOpen,
        opened: open_slot,
        events: dispute, DisputeCommitteeAssigned { request: request },
            DisputeResultCommitted, DisputeResultRevealed, DisputeRewardClaimed,
    };
}
