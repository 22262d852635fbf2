//! `RoundAccount`: the round transitions of an account that embeds a [`Round`] (`Request`, `Dispute`) — draw,
//! assign, commit, reveal — written once over the account's own phase field (`impl_round_account!`).
use {
    crate::{
        errors::VerityError,
        logic::{draw_committee_excluding, seed_from_slot_hashes},
        state::{OperatorRegistry, Round, RoundPhase},
    },
    anchor_lang::prelude::*,
};

/// What a committee draw needs besides the registry and the SlotHashes data.
#[derive(Clone, Copy, Debug)]
pub struct DrawSpec<'a> {
    /// The slot the round opened at (submit / dispute opening): the seed is the first slot hash after it, the
    /// registry values in force at it are drawn, and the assign window counts from it.
    pub opened: u64,
    pub assign_window: u64,
    pub request: Pubkey,
    /// The request's round number (0 first, 1 second), part of the seed.
    pub round: u8,
    pub model_index: u8,
    pub min_stake: u64,
    pub size: u8,
    /// Authorities that may not sit in this committee (the first committee, for a second round).
    pub exclude: &'a [Pubkey],
    pub commit_window: u64,
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

    /// Draws the committee (stake-weighted over the registry, seeded by the first slot hash after the opening
    /// slot), counts the members' open assignments and installs it; returns the committee.
    fn draw(
        &mut self,
        registry: &mut OperatorRegistry,
        slot_hashes: &[u8],
        spec: DrawSpec,
        now: u64,
    ) -> Result<Vec<Pubkey>> {
        require!(self.round_phase() == RoundPhase::Drawing, Self::NOT_DRAWING);
        let window_end = spec.opened.checked_add(spec.assign_window).ok_or(VerityError::MathOverflow)?;
        require!(now <= window_end, VerityError::AssignWindowClosed);
        let (seed_slot, seed) = seed_from_slot_hashes(slot_hashes, spec.opened, &spec.request, spec.round)?;
        let model_bit = 1u64.checked_shl(u32::from(spec.model_index)).ok_or(VerityError::MathOverflow)?;
        let committee = draw_committee_excluding(
            &registry.entries,
            spec.opened,
            model_bit,
            spec.min_stake,
            spec.size,
            &seed,
            spec.exclude,
        )?;
        for member in &committee {
            registry.adjust_open(member, true)?;
        }
        self.assign(&committee, now, spec.commit_window)?;
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
    fn open_reveal_if_due(&mut self, now: u64, reveal_window: u64) -> Result<()> {
        let phase = self.round_phase();
        let phase = self.committee_mut().open_reveal_if_due(phase, now, reveal_window)?;
        self.set_round_phase(phase);
        Ok(())
    }

    /// Records member `i`'s commitment; the reveal phase opens when every member has committed.
    fn commit(&mut self, i: usize, commitment: [u8; 32], now: u64, reveal_window: u64) -> Result<()> {
        let phase = self.round_phase();
        let phase = self.committee_mut().commit(phase, i, commitment, now, reveal_window)?;
        self.set_round_phase(phase);
        Ok(())
    }

    /// `commit_result` / `commit_dispute`: records `operator`'s commitment; returns the committed count.
    fn commit_by(&mut self, operator: &Pubkey, commitment: [u8; 32], now: u64, reveal_window: u64) -> Result<u8> {
        let i = self.committee_mut().member_index(operator)?;
        self.commit(i, commitment, now, reveal_window)?;
        Ok(self.committee_mut().committed_count)
    }

    /// `reveal_result` / `reveal_dispute`: opens the reveal phase if due, then checks and records `operator`'s
    /// reveal (bound to this account's `key`); returns the revealed count.
    #[allow(clippy::too_many_arguments)]
    fn reveal_by(
        &mut self,
        key: &Pubkey,
        operator: &Pubkey,
        output_hash: [u8; 32],
        salt: [u8; 32],
        tokens: (u32, u32),
        now: u64,
        reveal_window: u64,
    ) -> Result<u8> {
        self.open_reveal_if_due(now, reveal_window)?;
        let i = self.committee_mut().member_index(operator)?;
        self.reveal(key, i, output_hash, salt, tokens, now)?;
        Ok(self.committee_mut().revealed_count)
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

/// Implements [`RoundAccount`] for an account that embeds its [`Round`] as `committee` and stores the phase in
/// `$field: $Enum` as `$drawing` / `$committing` / `$revealing` (any other value: closed).
macro_rules! impl_round_account {
    ($ty:ty, $field:ident, $Enum:ident { $drawing:ident, $committing:ident, $revealing:ident }, $not_drawing:expr) => {
        impl $crate::state::RoundAccount for $ty {
            const NOT_DRAWING: $crate::errors::VerityError = $not_drawing;
            fn committee_mut(&mut self) -> &mut $crate::state::Round {
                &mut self.committee
            }
            fn round_phase(&self) -> $crate::state::RoundPhase {
                match self.$field {
                    $Enum::$drawing => $crate::state::RoundPhase::Drawing,
                    $Enum::$committing => $crate::state::RoundPhase::Committing,
                    $Enum::$revealing => $crate::state::RoundPhase::Revealing,
                    #[allow(unreachable_patterns)]
                    _ => $crate::state::RoundPhase::Closed,
                }
            }
            fn set_round_phase(&mut self, phase: $crate::state::RoundPhase) {
                match phase {
                    $crate::state::RoundPhase::Committing => self.$field = $Enum::$committing,
                    $crate::state::RoundPhase::Revealing => self.$field = $Enum::$revealing,
                    $crate::state::RoundPhase::Drawing | $crate::state::RoundPhase::Closed => {}
                }
            }
            fn max_tokens_out(&self) -> u32 {
                self.max_tokens
            }
        }
    };
}
pub(crate) use impl_round_account;
