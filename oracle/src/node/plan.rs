//! The per-request state machine as a pure function: from the request's on-chain state, the slot, this node's key
//! and its stored job, decide the one next action. Everything is re-derived from the chain each time, so restarts
//! and other nodes' actions (someone else cranked assign or finalize) need no special handling.
use {
    crate::store::{Job, Phase},
    anchor_lang::prelude::Pubkey,
    verity::state::{ConfigParams, MemberState, Outcome, Request, RequestStatus},
};

/// Slots an Agreed member that is not the first one waits before writing the output itself.
pub const WRITE_GRACE_SLOTS: u64 = 20;
/// Slots a non-member waits past the reveal deadline before cranking finalize itself.
pub const FINALIZE_GRACE_SLOTS: u64 = 10;

/// What the node should do next for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing to do now (waiting for a slot, a deadline or other members).
    Wait,
    /// Crank `assign_committee` (nobody has yet).
    Assign,
    /// Crank `expire_request` (assign window over, no committee).
    Expire,
    /// Run the model on the prompt, then store output + salt.
    Infer,
    Commit,
    Reveal,
    Finalize,
    WriteOutput,
    Claim,
    /// Nothing left for this node.
    Done,
    /// This node committed but has no stored salt (store lost): it cannot reveal and will be slashed.
    Lost(&'static str),
}

/// Inputs of the decision.
pub struct View<'a> {
    pub req: &'a Request,
    pub me: &'a Pubkey,
    pub now: u64,
    pub params: &'a ConfigParams,
    pub job: Option<&'a Job>,
    /// This node serves the request's model (profile hash matches its engine).
    pub serves: bool,
    /// The Output account holds the complete, verified bytes.
    pub output_complete: bool,
}

/// The status the program would see at `now` (Committing turns Revealing lazily after the commit deadline), and
/// the reveal deadline in force.
pub fn effective(req: &Request, now: u64, reveal_window: u64) -> (RequestStatus, u64) {
    if req.status == RequestStatus::Committing && now > req.commit_deadline {
        (RequestStatus::Revealing, req.commit_deadline.saturating_add(reveal_window))
    } else {
        (req.status, req.reveal_deadline)
    }
}

pub fn next(v: &View) -> Action {
    let r = v.req;
    let member = r.members.iter().position(|m| m.operator == *v.me);
    match r.status {
        RequestStatus::Pending => {
            if v.now > r.submit_slot.saturating_add(v.params.assign_window) {
                Action::Expire
            } else if v.serves && v.now > r.submit_slot {
                Action::Assign
            } else {
                Action::Wait
            }
        }
        RequestStatus::Committing | RequestStatus::Revealing => {
            let (status, reveal_deadline) = effective(r, v.now, v.params.reveal_window);
            let revealing = status == RequestStatus::Revealing;
            if let Some(i) = member {
                match r.members[i].state {
                    MemberState::Assigned if !revealing => {
                        return match v.job {
                            Some(j) if j.phase != Phase::Done => Action::Commit,
                            Some(_) => Action::Wait,
                            None if v.serves => Action::Infer,
                            None => Action::Wait,
                        }
                    }
                    MemberState::Committed if revealing && v.now <= reveal_deadline => {
                        return match v.job {
                            Some(_) => Action::Reveal,
                            None => Action::Lost("committed, but the store has no salt for this request"),
                        }
                    }
                    _ => {}
                }
            }
            let all_revealed = r.status == RequestStatus::Revealing && r.revealed_count == r.committed_count;
            let finalizable = revealing && (all_revealed || v.now > reveal_deadline);
            let grace_over = v.now > reveal_deadline.saturating_add(FINALIZE_GRACE_SLOTS);
            if finalizable && (member.is_some() || grace_over) {
                Action::Finalize
            } else {
                Action::Wait
            }
        }
        RequestStatus::Finalized => {
            let Some(i) = member else { return Action::Done };
            let m = &r.members[i];
            if m.outcome != Outcome::Agreed {
                return Action::Done;
            }
            let first_agreed = r.members.iter().position(|m| m.outcome == Outcome::Agreed) == Some(i);
            let write_turn = first_agreed || v.now > r.finalized_slot.saturating_add(WRITE_GRACE_SLOTS);
            if !v.output_complete && v.job.is_some() && write_turn {
                return Action::WriteOutput;
            }
            if m.reward == 0 || m.claimed {
                return if v.output_complete || v.job.is_none() { Action::Done } else { Action::Wait };
            }
            if v.now >= r.finalized_slot.saturating_add(v.params.dispute_window) {
                Action::Claim
            } else {
                Action::Wait
            }
        }
        RequestStatus::NoConsensus | RequestStatus::Expired | RequestStatus::Disputed | RequestStatus::Escalated => {
            Action::Done
        }
    }
}
