//! `Member`: one committee seat of a round — the operator, its commitment and reveal, its outcome and what it
//! was paid or slashed.
use anchor_lang::prelude::*;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum MemberState {
    Assigned,
    Committed,
    Revealed,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum Outcome {
    /// Not finalized yet.
    Pending,
    /// Revealed the winning hash: rewarded.
    Agreed,
    /// Revealed another hash while a majority existed: slashed.
    Minority,
    /// Revealed, but no majority existed: neither paid nor slashed.
    Inconclusive,
    /// Committed but did not reveal: slashed.
    NoReveal,
    /// Did not commit: slashed.
    NoCommit,
    /// Was in the majority of a result a dispute overturned: slashed, reward forfeited.
    Overturned,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct Member {
    /// Operator authority (signs commit/reveal).
    pub operator: Pubkey,
    pub state: MemberState,
    pub commitment: [u8; 32],
    pub output_hash: [u8; 32],
    pub commit_slot: u64,
    pub reveal_slot: u64,
    /// Reported at reveal.
    pub tokens_in: u32,
    pub tokens_out: u32,
    pub outcome: Outcome,
    /// Lamports owed from the fee (claimable after the dispute window).
    pub reward: u64,
    /// Stake credited from slashed members (already added to the operator's stake at settlement).
    pub slash_share: u64,
    /// Stake slashed from this member at settlement.
    pub slashed: u64,
    pub claimed: bool,
}

impl Member {
    pub fn new(operator: Pubkey) -> Member {
        Member {
            operator,
            state: MemberState::Assigned,
            commitment: [0; 32],
            output_hash: [0; 32],
            commit_slot: 0,
            reveal_slot: 0,
            tokens_in: 0,
            tokens_out: 0,
            outcome: Outcome::Pending,
            reward: 0,
            slash_share: 0,
            slashed: 0,
            claimed: false,
        }
    }
}
