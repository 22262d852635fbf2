//! Unit tests of the state machine's decisions (pure: no chain, no engine).
use {
    super::plan::{crank_rank, next, Action, View, CLAIM_GRACE_SLOTS, CRANK_STAGGER_SLOTS, FINALIZE_GRACE_SLOTS},
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

fn view<'a>(r: &'a Request, me: &'a Pubkey, now: u64, job: Option<&'a Job>, p: &'a ConfigParams) -> View<'a> {
    View { req: r, me, now, params: p, job, serves: true, output_complete: false, crank_rank: 0 }
}

fn decide(r: &Request, me: &Pubkey, now: u64, job: Option<&Job>, complete: bool) -> Action {
    next(&View { output_complete: complete, ..view(r, me, now, job, &params()) })
}

#[test]
fn pending_is_assigned_after_the_submit_slot_and_expired_after_the_window() {
    let me = Pubkey::new_unique();
    let r = request(RequestStatus::Pending, &[]);
    assert_eq!(decide(&r, &me, 101, None, false), Action::Wait, "the seed slot hash is not there yet");
    assert_eq!(decide(&r, &me, 102, None, false), Action::Assign, "the leader at once");
    assert_eq!(decide(&r, &me, 200, None, false), Action::Assign, "last slot of the window");
    assert_eq!(decide(&r, &me, 201, None, false), Action::Expire);
    let p = params();
    let not_served = next(&View { serves: false, ..view(&r, &me, 102, None, &p) });
    assert_eq!(not_served, Action::Wait);
    // The third in the crank order only after two staggers without an assign.
    let third = |now| next(&View { crank_rank: 2, ..view(&r, &me, now, None, &p) });
    assert_eq!(third(101 + 2 * CRANK_STAGGER_SLOTS), Action::Wait);
    assert_eq!(third(102 + 2 * CRANK_STAGGER_SLOTS), Action::Assign);
}

#[test]
fn crank_order_is_a_permutation_that_changes_per_request() {
    let ops: Vec<Pubkey> = (0..5).map(|_| Pubkey::new_unique()).collect();
    let mut leaders = std::collections::HashSet::new();
    for _ in 0..32 {
        let request = Pubkey::new_unique();
        let mut ranks: Vec<usize> = ops.iter().map(|o| crank_rank(&request, o, &ops)).collect();
        leaders.insert(ops[ranks.iter().position(|r| *r == 0).expect("a leader")]);
        ranks.sort();
        assert_eq!(ranks, vec![0, 1, 2, 3, 4], "every operator has its own place");
        // An operator that is not a candidate (not staked) comes after the ones that sort below it.
        let outsider = Pubkey::new_unique();
        assert!(crank_rank(&request, &outsider, &ops) <= ops.len());
    }
    assert!(leaders.len() >= 3, "the leader changes with the request: {} distinct of 5", leaders.len());
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
    r.committee.members[0].reveal_slot = 158;
    r.committee.members[1].state = MemberState::Committed;
    assert_eq!(decide(&r, &me, 160, Some(&job()), false), Action::Wait, "the other member may still reveal");
    assert_eq!(decide(&r, &me, 171, Some(&job()), false), Action::Finalize, "a revealer settles first");
    let silent = r.committee.members[1].operator;
    assert_eq!(decide(&r, &silent, 171 + CRANK_STAGGER_SLOTS - 1, None, false), Action::Wait);
    assert_eq!(decide(&r, &silent, 171 + CRANK_STAGGER_SLOTS, None, false), Action::Finalize);
    r.committee.revealed_count = 2;
    r.committee.members[1].state = MemberState::Revealed;
    r.committee.members[1].reveal_slot = 159;
    assert_eq!(decide(&r, &me, 159, Some(&job()), false), Action::Finalize, "at once after the last reveal");
    assert_eq!(decide(&r, &silent, 159, Some(&job()), false), Action::Wait, "second in the settle order");
    assert_eq!(decide(&r, &silent, 159 + CRANK_STAGGER_SLOTS, Some(&job()), false), Action::Finalize);
    let outsider = Pubkey::new_unique();
    assert_eq!(decide(&r, &outsider, 160, None, false), Action::Wait);
    assert_eq!(decide(&r, &outsider, 159 + FINALIZE_GRACE_SLOTS, None, false), Action::Wait);
    assert_eq!(decide(&r, &outsider, 160 + FINALIZE_GRACE_SLOTS, None, false), Action::Finalize);
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
    assert_eq!(decide(&r, &a, 210, Some(&job()), true), Action::Claim(vec![a, b]), "the first claims for all");
    assert_eq!(decide(&r, &b, 210, Some(&job()), true), Action::Wait);
    assert_eq!(decide(&r, &b, 210 + CLAIM_GRACE_SLOTS, Some(&job()), true), Action::Claim(vec![b]), "…or it claims");
    r.committee.members[1].claimed = true;
    assert_eq!(decide(&r, &a, 210, Some(&job()), true), Action::Claim(vec![a]), "only what is unclaimed");
    assert_eq!(decide(&r, &b, 211, Some(&job()), true), Action::Done);
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
