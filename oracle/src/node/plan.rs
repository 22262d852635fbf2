//! The per-request state machine as a pure function: from the request's on-chain state, the slot, this node's key
//! and its stored job, decide the one next action. Everything is re-derived from the chain each time, so restarts
//! and other nodes' actions (someone else cranked assign or finalize) need no special handling. Cranks have a
//! deterministic order (docs/PROTOCOL.md, "Crank order"): one leader acts at once, the others only after a
//! stagger each, so nodes do not race each other's transactions.
use {
    crate::store::{Job, Phase},
    anchor_lang::prelude::Pubkey,
    verity::state::{
        ConfigParams, Dispute, DisputePhase, MemberState, Outcome, Request, RequestStatus, Round, RoundAccount,
        RoundPhase, Verdict,
    },
};

pub use crate::defaults::{CLAIM_GRACE_SLOTS, CRANK_STAGGER_SLOTS, FINALIZE_GRACE_SLOTS, WRITE_GRACE_SLOTS};

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
    /// Reveal (in the first round with `reveal_and_finalize`: the last reveal settles the request and stores a
    /// small answer in the same transaction).
    Reveal,
    Finalize,
    WriteOutput,
    /// Claim the rewards of these members (authorities): the first Agreed member claims every unclaimed one (the
    /// node batches claims of many requests into few transactions), the others their own after a grace.
    Claim(Vec<Pubkey>),
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

/// Inputs of the decision (for a second round, of [`next_dispute`], with the round's job).
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
    /// This node's place in the assign crank order of the request ([`crank_rank`]; 0 = leader).
    pub crank_rank: usize,
}

/// This node's place in the crank order of `request` among `candidates` (its draw pool): the number of
/// candidates whose sha256(request ‖ authority) sorts below this node's. Every node
/// computes the same order, and it differs per request, so the leader's work is spread over the operators.
pub fn crank_rank(request: &Pubkey, me: &Pubkey, candidates: &[Pubkey]) -> usize {
    use sha2::{Digest, Sha256};
    let key = |a: &Pubkey| -> [u8; 32] { Sha256::new().chain_update(request).chain_update(a).finalize().into() };
    let mine = key(me);
    candidates.iter().filter(|c| *c != me && key(c) < mine).count()
}

/// One commit-reveal round (the first committee's or the second round's) as a member sees it at `now`, with the
/// program's lazy Committing → Revealing turn applied ([`Round::phase_at`]).
struct RoundView<'a> {
    revealing: bool,
    /// The reveal deadline in force (counted from the commit deadline once that passed without every commit).
    reveal_deadline: u64,
    all_revealed: bool,
    /// First slot the round could be settled in: after the last reveal, or past the reveal deadline.
    over_since: u64,
    now: u64,
    job: Option<&'a Job>,
    serves: bool,
}

impl<'a> RoundView<'a> {
    fn of(round: &Round, stored: RoundPhase, reveal_window: u64, now: u64, job: Option<&'a Job>, serves: bool) -> Self {
        let revealing = round.phase_at(stored, now) == RoundPhase::Revealing;
        let reveal_deadline = if stored == RoundPhase::Committing {
            round.commit_deadline.saturating_add(reveal_window)
        } else {
            round.reveal_deadline
        };
        let all_revealed = stored == RoundPhase::Revealing && round.revealed_count == round.committed_count;
        let last_reveal = round.members.iter().map(|m| m.reveal_slot).max().unwrap_or(0);
        let over_since = if all_revealed { last_reveal } else { reveal_deadline.saturating_add(1) };
        RoundView { revealing, reveal_deadline, all_revealed, over_since, now, job, serves }
    }

    /// The member's step, else `settle` once the round is over: by the members in settle order (revealers
    /// first, committee order), one [`CRANK_STAGGER_SLOTS`] after another; anyone after a grace.
    fn action(&self, round: &Round, me: &Pubkey, lost: &'static str, settle: Action) -> Action {
        let i = round.members.iter().position(|m| m.operator == *me);
        let mine = i.map(|i| round.members[i].state);
        if let Some(step) = self.step(mine, lost) {
            return step;
        }
        if self.over(i.map(|i| settle_rank(round, i))) {
            settle
        } else {
            Action::Wait
        }
    }

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

    /// The round can be settled now by a member of settle rank `rank` (None: not a member, after a grace).
    fn over(&self, rank: Option<usize>) -> bool {
        let done = self.revealing && (self.all_revealed || self.now > self.reveal_deadline);
        let wait = match rank {
            Some(r) => CRANK_STAGGER_SLOTS.saturating_mul(r as u64),
            None => FINALIZE_GRACE_SLOTS.saturating_add(1),
        };
        done && self.now >= self.over_since.saturating_add(wait)
    }
}

/// Member `i`'s place in the settle order of `round`: members that revealed first, then the rest, each group in
/// committee order (a revealer is online and paid by the settlement; a silent one may be gone).
fn settle_rank(round: &Round, i: usize) -> usize {
    let revealed = |m: &verity::state::Member| m.state == MemberState::Revealed;
    let mine = revealed(&round.members[i]);
    round.members.iter().enumerate().filter(|(j, m)| if revealed(m) == mine { *j < i } else { revealed(m) }).count()
}

pub fn next(v: &View) -> Action {
    let r = v.req;
    let member = r.committee.members.iter().position(|m| m.operator == *v.me);
    match r.status {
        RequestStatus::Pending => {
            // The draw seeds from the hash of the first slot after the submit (in SlotHashes from submit + 2).
            let turn =
                r.submit_slot.saturating_add(2).saturating_add(CRANK_STAGGER_SLOTS.saturating_mul(v.crank_rank as u64));
            if v.now > r.submit_slot.saturating_add(v.params.assign_window) {
                Action::Expire
            } else if v.serves && v.now >= turn {
                Action::Assign
            } else {
                Action::Wait
            }
        }
        RequestStatus::Committing | RequestStatus::Revealing => {
            let round = RoundView::of(&r.committee, r.round_phase(), r.terms.reveal_window, v.now, v.job, v.serves);
            round.action(&r.committee, v.me, "committed, but the store has no salt for this request", Action::Finalize)
        }
        RequestStatus::Finalized => {
            let Some(i) = member else { return Action::Done };
            let m = &r.committee.members[i];
            if m.outcome != Outcome::Agreed {
                return Action::Done;
            }
            let first_agreed = r.committee.members.iter().position(|m| m.outcome == Outcome::Agreed) == Some(i);
            let write_turn = first_agreed || v.now > r.finalized_slot.saturating_add(WRITE_GRACE_SLOTS);
            if !v.output_complete && v.job.is_some() && write_turn {
                return Action::WriteOutput;
            }
            if m.reward == 0 || m.claimed {
                return if v.output_complete || v.job.is_none() { Action::Done } else { Action::Wait };
            }
            if !r.rewards_unlocked(v.now) {
                return Action::Wait;
            }
            if first_agreed {
                let unclaimed = r.committee.members.iter().filter(|m| m.reward > 0 && !m.claimed);
                Action::Claim(unclaimed.map(|m| m.operator).collect())
            } else if v.now >= r.unlock_slot().saturating_add(CLAIM_GRACE_SLOTS) {
                Action::Claim(vec![*v.me])
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

/// The next step for a second round (escalation or challenge): draw, infer → commit → reveal as a member, resolve,
/// write the output as a member of a majority that replaced or decided it, claim, and close (opener).
/// `v` is the request's view; `v.job` is this node's job for the round (keyed by the Dispute address).
pub fn next_dispute(d: &Dispute, v: &View) -> Action {
    let member = d.committee.members.iter().position(|m| m.operator == *v.me);
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
            let round = RoundView::of(&d.committee, d.round_phase(), d.terms.reveal_window, v.now, v.job, v.serves);
            let lost = "committed to the second round, but the store has no salt";
            round.action(&d.committee, v.me, lost, Action::ResolveDispute)
        }
        DisputePhase::Resolved => {
            if let Some(i) = member {
                let m = &d.committee.members[i];
                let decided = matches!(d.verdict, Verdict::Decided | Verdict::Overturned);
                let in_majority = decided && m.state == MemberState::Revealed && m.output_hash == d.winning_hash;
                let first = d
                    .committee
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
                return if d.rewards_claimed >= d.rewards_total && !needed {
                    Action::CloseDispute
                } else {
                    Action::Wait
                };
            }
            Action::Done
        }
    }
}
