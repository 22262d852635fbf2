//! The per-request state machine as a pure function: from the request's on-chain state, the slot, this node's key
//! and its stored job, decide the one next action. Everything is re-derived from the chain each time, so restarts
//! and other nodes' actions (someone else cranked assign or finalize) need no special handling.
use {
    crate::store::{Job, Phase},
    anchor_lang::prelude::Pubkey,
    verity::state::{
        ConfigParams, Dispute, DisputePhase, MemberState, Outcome, Request, RequestStatus, Verdict,
    },
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
    /// Open the escalation round of an Escalated request (`open_dispute`, no bond).
    OpenEscalation,
    /// Second round (Dispute account): draw its 2k+1 committee.
    AssignDispute,
    /// Second round: decide it once its phases are over (or no committee came within the assign window).
    ResolveDispute,
    /// Second round: claim this member's reward held by the Dispute account.
    ClaimDispute,
    /// Second round: return the Dispute account's rent to its opener once every reward was claimed.
    CloseDispute,
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

/// One commit-reveal round as a member sees it (the first committee's or the second round's).
struct RoundView<'a> {
    revealing: bool,
    reveal_deadline: u64,
    all_revealed: bool,
    now: u64,
    job: Option<&'a Job>,
    serves: bool,
}

impl RoundView<'_> {
    /// This node's own step as a member in state `mine` (None: not a member, or nothing of its own to do).
    fn step(&self, mine: Option<MemberState>, lost: &'static str) -> Option<Action> {
        match mine? {
            MemberState::Assigned if !self.revealing => match self.job {
                Some(j) if j.phase != Phase::Done => Some(Action::Commit),
                Some(_) => Some(Action::Wait),
                None if self.serves => Some(Action::Infer),
                None => Some(Action::Wait),
            },
            MemberState::Committed if self.revealing && self.now <= self.reveal_deadline => {
                Some(if self.job.is_some() { Action::Reveal } else { Action::Lost(lost) })
            }
            _ => None,
        }
    }

    /// The round can be settled now: by a member at once, by anyone else after a grace period.
    fn over(&self, member: bool) -> bool {
        let done = self.revealing && (self.all_revealed || self.now > self.reveal_deadline);
        done && (member || self.now > self.reveal_deadline.saturating_add(FINALIZE_GRACE_SLOTS))
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
            let (status, reveal_deadline) = effective(r, v.now, r.terms.reveal_window);
            let revealing = status == RequestStatus::Revealing;
            let all_revealed = r.status == RequestStatus::Revealing && r.revealed_count == r.committed_count;
            let round = RoundView { revealing, reveal_deadline, all_revealed, now: v.now, job: v.job, serves: v.serves };
            let mine = member.map(|i| r.members[i].state);
            round.step(mine, "committed, but the store has no salt for this request").unwrap_or_else(|| {
                if round.over(mine.is_some()) { Action::Finalize } else { Action::Wait }
            })
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
            if r.rewards_unlocked(v.now) {
                Action::Claim
            } else {
                Action::Wait
            }
        }
        // No strict majority: someone opens the escalation round; if nobody does within the assign window,
        // `expire_request` refunds. Once opened (round 1), the Dispute account drives it ([`next_dispute`]).
        RequestStatus::Escalated => {
            if r.round > 0 {
                Action::Wait
            } else if v.now > r.finalized_slot.saturating_add(v.params.assign_window) {
                Action::Expire
            } else if v.serves {
                Action::OpenEscalation
            } else {
                Action::Wait
            }
        }
        // A challenge is running; first-round rewards are locked until it is resolved.
        RequestStatus::Disputed => Action::Wait,
        RequestStatus::NoConsensus | RequestStatus::Expired => Action::Done,
    }
}

/// Inputs of a second-round decision (the request's Dispute account).
pub struct DisputeView<'a> {
    pub d: &'a Dispute,
    pub req: &'a Request,
    pub me: &'a Pubkey,
    pub now: u64,
    pub params: &'a ConfigParams,
    /// This node's job for the round (keyed by the Dispute address).
    pub job: Option<&'a Job>,
    pub serves: bool,
    pub output_complete: bool,
}

/// The second round's phase at `now` (Committing turns Revealing lazily) and the reveal deadline in force.
pub fn effective_dispute(d: &Dispute, now: u64, reveal_window: u64) -> (DisputePhase, u64) {
    if d.phase == DisputePhase::Committing && now > d.commit_deadline {
        (DisputePhase::Revealing, d.commit_deadline.saturating_add(reveal_window))
    } else {
        (d.phase, d.reveal_deadline)
    }
}

/// The next step for a second round (escalation or challenge): draw, infer → commit → reveal as a member, resolve,
/// write the output as a member of a majority that replaced or decided it, claim, and close (opener).
pub fn next_dispute(v: &DisputeView) -> Action {
    let d = v.d;
    let member = d.members.iter().position(|m| m.operator == *v.me);
    match d.phase {
        DisputePhase::Open => {
            if v.now > d.open_slot.saturating_add(v.params.assign_window) {
                Action::ResolveDispute
            } else if v.serves && v.now > d.open_slot {
                Action::AssignDispute
            } else {
                Action::Wait
            }
        }
        DisputePhase::Committing | DisputePhase::Revealing => {
            let (phase, reveal_deadline) = effective_dispute(d, v.now, d.terms.reveal_window);
            let revealing = phase == DisputePhase::Revealing;
            let all_revealed = d.phase == DisputePhase::Revealing && d.revealed_count == d.committed_count;
            let round = RoundView { revealing, reveal_deadline, all_revealed, now: v.now, job: v.job, serves: v.serves };
            let mine = member.map(|i| d.members[i].state);
            round.step(mine, "committed to the second round, but the store has no salt").unwrap_or_else(|| {
                if round.over(mine.is_some()) { Action::ResolveDispute } else { Action::Wait }
            })
        }
        DisputePhase::Resolved => {
            if let Some(i) = member {
                let m = &d.members[i];
                let decided = matches!(d.verdict, Verdict::Decided | Verdict::Overturned);
                let in_majority = decided && m.state == MemberState::Revealed && m.output_hash == d.winning_hash;
                let first = d
                    .members
                    .iter()
                    .position(|m| m.state == MemberState::Revealed && m.output_hash == d.winning_hash)
                    == Some(i);
                let write_turn = first || v.now > d.resolved_slot.saturating_add(WRITE_GRACE_SLOTS);
                if in_majority
                    && v.req.status == RequestStatus::Finalized
                    && !v.output_complete
                    && v.job.is_some()
                    && write_turn
                {
                    return Action::WriteOutput;
                }
                if m.reward > 0 && !m.claimed {
                    return Action::ClaimDispute;
                }
                if in_majority && !v.output_complete && v.job.is_some() {
                    return Action::Wait;
                }
            }
            if d.opener == *v.me {
                // A round that decided the result keeps its Dispute account until the output is written (the
                // program refuses the close before, `ResultStillNeeded`, for RESULT_KEEP_SLOTS).
                let writes_output = matches!(d.verdict, Verdict::Decided | Verdict::Overturned);
                let keep_until = d.resolved_slot.saturating_add(verity::constants::RESULT_KEEP_SLOTS);
                let needed = writes_output && !v.output_complete && v.now <= keep_until;
                return if d.rewards_claimed >= d.rewards_total && !needed { Action::CloseDispute } else { Action::Wait };
            }
            Action::Done
        }
    }
}
