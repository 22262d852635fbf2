//! Unit tests of the state machine's decisions (pure: no chain, no engine).
use {
    super::plan::{next, Action, View, FINALIZE_GRACE_SLOTS},
    crate::store::{Job, Phase},
    anchor_lang::{prelude::Pubkey, AnchorDeserialize},
    verity::state::{ConfigParams, Member, MemberState, Outcome, Request, RequestStatus},
};

fn params() -> ConfigParams {
    ConfigParams {
        protocol_fee_bps: 500,
        slash_bps: 1_000,
        slash_treasury_bps: 5_000,
        committee_size: 3,
        assign_window: 100,
        commit_window: 50,
        reveal_window: 50,
        dispute_window: 10,
        unbonding_slots: 300,
        min_stake: 1_000_000,
        dispute_bond: 1_000_000_000,
    }
}

/// A Request decoded from zeroed Borsh (empty vectors, first enum variants), then shaped by the test.
fn request(status: RequestStatus, members: &[Pubkey]) -> Request {
    let zeros = vec![0u8; 8192];
    let mut r = Request::deserialize(&mut zeros.as_slice()).expect("zeroed request decodes");
    r.status = status;
    r.submit_slot = 100;
    r.committee.assign_slot = 102;
    r.committee.commit_deadline = 152;
    r.max_tokens = 16;
    r.committee.members = members.iter().map(|k| Member::new(*k)).collect();
    r.terms = params().terms();
    r
}

fn job() -> Job {
    Job {
        request: "r".into(),
        phase: Phase::Inferred,
        output: "Paris".into(),
        output_hash: "11".repeat(32),
        salt: "22".repeat(32),
        tokens_in: 1,
        tokens_out: 1,
        note: String::new(),
    }
}

fn decide(r: &Request, me: &Pubkey, now: u64, job: Option<&Job>, complete: bool) -> Action {
    next(&View { req: r, me, now, params: &params(), job, serves: true, output_complete: complete })
}

#[test]
fn pending_is_assigned_after_the_submit_slot_and_expired_after_the_window() {
    let me = Pubkey::new_unique();
    let r = request(RequestStatus::Pending, &[]);
    assert_eq!(decide(&r, &me, 100, None, false), Action::Wait, "the seed slot hash is not there yet");
    assert_eq!(decide(&r, &me, 101, None, false), Action::Assign);
    assert_eq!(decide(&r, &me, 200, None, false), Action::Assign, "last slot of the window");
    assert_eq!(decide(&r, &me, 201, None, false), Action::Expire);
    let not_served =
        next(&View { req: &r, me: &me, now: 101, params: &params(), job: None, serves: false, output_complete: false });
    assert_eq!(not_served, Action::Wait);
}

#[test]
fn member_infers_then_commits_non_member_waits() {
    let (me, other) = (Pubkey::new_unique(), Pubkey::new_unique());
    let r = request(RequestStatus::Committing, &[me, other]);
    assert_eq!(decide(&r, &me, 120, None, false), Action::Infer);
    assert_eq!(decide(&r, &me, 120, Some(&job()), false), Action::Commit, "stored output is committed (restart)");
    assert_eq!(decide(&r, &Pubkey::new_unique(), 120, None, false), Action::Wait);
    // Past the commit deadline an uncommitted member can do nothing.
    assert_eq!(decide(&r, &me, 153, None, false), Action::Wait);
}

#[test]
fn committed_member_reveals_or_reports_a_lost_salt() {
    let (me, other) = (Pubkey::new_unique(), Pubkey::new_unique());
    let mut r = request(RequestStatus::Revealing, &[me, other]);
    r.committee.reveal_deadline = 170;
    r.committee.committed_count = 2;
    r.committee.members[0].state = MemberState::Committed;
    assert_eq!(decide(&r, &me, 160, Some(&job()), false), Action::Reveal);
    assert!(matches!(decide(&r, &me, 160, None, false), Action::Lost(_)));
    // Lazily opened reveal phase: Committing past the deadline counts as Revealing.
    r.status = RequestStatus::Committing;
    assert_eq!(decide(&r, &me, 153, Some(&job()), false), Action::Reveal);
    assert_eq!(decide(&r, &me, 152, Some(&job()), false), Action::Wait, "commit phase still open");
}

#[test]
fn finalize_when_all_revealed_or_after_the_deadline() {
    let (me, other) = (Pubkey::new_unique(), Pubkey::new_unique());
    let mut r = request(RequestStatus::Revealing, &[me, other]);
    r.committee.reveal_deadline = 170;
    r.committee.committed_count = 2;
    r.committee.revealed_count = 1;
    r.committee.members[0].state = MemberState::Revealed;
    r.committee.members[1].state = MemberState::Committed;
    assert_eq!(decide(&r, &me, 160, Some(&job()), false), Action::Wait, "the other member may still reveal");
    assert_eq!(decide(&r, &me, 171, Some(&job()), false), Action::Finalize);
    r.committee.revealed_count = 2;
    r.committee.members[1].state = MemberState::Revealed;
    assert_eq!(decide(&r, &me, 160, Some(&job()), false), Action::Finalize);
    let outsider = Pubkey::new_unique();
    assert_eq!(decide(&r, &outsider, 160, None, false), Action::Wait);
    assert_eq!(decide(&r, &outsider, 171 + FINALIZE_GRACE_SLOTS, None, false), Action::Finalize);
}

#[test]
fn finalized_majority_member_writes_output_then_claims() {
    let (a, b) = (Pubkey::new_unique(), Pubkey::new_unique());
    let mut r = request(RequestStatus::Finalized, &[a, b]);
    r.finalized_slot = 200;
    for m in &mut r.committee.members {
        m.outcome = Outcome::Agreed;
        m.reward = 500;
    }
    assert_eq!(decide(&r, &a, 201, Some(&job()), false), Action::WriteOutput, "first Agreed member writes");
    assert_eq!(decide(&r, &b, 201, Some(&job()), false), Action::Wait, "second waits for the first");
    assert_eq!(decide(&r, &b, 221, Some(&job()), false), Action::WriteOutput, "…unless it did not");
    assert_eq!(decide(&r, &a, 205, Some(&job()), true), Action::Wait, "dispute window");
    assert_eq!(decide(&r, &a, 210, Some(&job()), true), Action::Claim);
    r.committee.members[0].claimed = true;
    assert_eq!(decide(&r, &a, 211, Some(&job()), true), Action::Done);
    r.committee.members[1].outcome = Outcome::Minority;
    assert_eq!(decide(&r, &b, 211, Some(&job()), false), Action::Done);
}

#[test]
fn terminal_statuses_are_done() {
    let me = Pubkey::new_unique();
    for s in [RequestStatus::Expired, RequestStatus::NoConsensus] {
        assert_eq!(decide(&request(s, &[me]), &me, 500, None, false), Action::Done);
    }
}
