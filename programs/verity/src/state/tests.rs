//! Unit tests of the request state machine: assign → commit → reveal → settle, and their rejections.
use {
    super::*,
    crate::{errors::VerityError, logic::commitment_hash},
    anchor_lang::prelude::*,
};

fn request(k: u8, fee: u64) -> Request {
    Request {
        requester: Pubkey::new_unique(),
        nonce: 1,
        model: Pubkey::new_unique(),
        model_owner: Pubkey::new_unique(),
        model_index: 0,
        profile_hash: [1; 32],
        price_per_token: 10,
        royalty_bps: 1000,
        param_count: 0,
        protocol_fee_bps: 500,
        prompt: b"hi".to_vec(),
        prompt_hash: [0; 32],
        prompt_uri: String::new(),
        max_tokens: 16,
        output_capacity: 64,
        fee,
        callback_program: None,
        status: RequestStatus::Pending,
        round: 0,
        committee_size: k,
        submit_slot: 10,
        finalized_slot: 0,
        committee: Round::default(),
        winning_hash: [0; 32],
        receipt: ComputeReceipt::default(),
        royalty_paid: 0,
        protocol_fee_paid: 0,
        rewards_total: 0,
        rewards_claimed: 0,
        bump: 0,
        output_bump: 0,
        dispute_paid: 0,
        callback_status: CallbackStatus::None,
        terms: crate::state::RequestTerms {
            commit_window: COMMIT_WINDOW,
            reveal_window: REVEAL_WINDOW,
            ..Default::default()
        },
        sampling: Sampling::GREEDY,
        prompt_account: None,
    }
}

const COMMIT_WINDOW: u64 = 5;
const REVEAL_WINDOW: u64 = 5;

fn assigned(k: u8, fee: u64) -> (Request, Vec<Pubkey>, Pubkey) {
    let mut r = request(k, fee);
    let committee: Vec<Pubkey> = (0..k).map(|_| Pubkey::new_unique()).collect();
    r.assign(&committee, 20, COMMIT_WINDOW).unwrap();
    (r, committee, Pubkey::new_unique())
}

fn commit(r: &mut Request, key: &Pubkey, i: usize, hash: u8, now: u64) -> Result<()> {
    let c = commitment_hash(key, &r.committee.members[i].operator, &[hash; 32], &[i as u8; 32]);
    r.commit(i, c, now)
}

fn reveal(r: &mut Request, key: &Pubkey, i: usize, hash: u8, now: u64) -> Result<()> {
    r.open_reveal_if_due(now)?;
    r.reveal(key, i, [hash; 32], [i as u8; 32], (3, 7 + i as u32), now)
}

fn books(committee: &[Pubkey]) -> Vec<Operator> {
    committee.iter().map(|k| Operator { authority: *k, stake: 1000, ..Default::default() }).collect()
}

#[test]
fn commit_phase_rules() {
    let (mut r, _, key) = assigned(3, 0);
    assert_eq!(r.committee.commit_deadline, 25);
    assert_eq!(r.assign(&[], 21, 1).unwrap_err(), VerityError::RequestNotPending.into());
    commit(&mut r, &key, 0, 1, 21).unwrap();
    assert_eq!(commit(&mut r, &key, 0, 1, 21).unwrap_err(), VerityError::AlreadyCommitted.into());
    assert_eq!(reveal(&mut r, &key, 0, 1, 22).unwrap_err(), VerityError::RevealWindowNotOpen.into());
    assert_eq!(commit(&mut r, &key, 1, 1, 26).unwrap_err(), VerityError::CommitWindowClosed.into());
    commit(&mut r, &key, 1, 1, 25).unwrap();
    commit(&mut r, &key, 2, 2, 25).unwrap();
    assert_eq!(r.status, RequestStatus::Revealing, "all committed opens the reveal phase");
    assert_eq!(r.committee.reveal_deadline, 30);
}

#[test]
fn reveal_rules() {
    let (mut r, _, key) = assigned(3, 0);
    commit(&mut r, &key, 0, 1, 21).unwrap();
    commit(&mut r, &key, 1, 1, 21).unwrap();
    // Deadline passes with member 2 silent: reveal opens lazily, deadline counts from the commit deadline.
    assert_eq!(reveal(&mut r, &key, 2, 1, 26).unwrap_err(), VerityError::NotCommitted.into());
    assert_eq!(r.committee.reveal_deadline, 30);
    // Wrong hash or salt.
    let err = r.reveal(&key, 0, [9; 32], [0; 32], (1, 1), 26).unwrap_err();
    assert_eq!(err, VerityError::CommitmentMismatch.into());
    // A commitment is bound to its operator: member 1 cannot reveal with member 0's salt/hash.
    let err = r.reveal(&key, 1, [1; 32], [0; 32], (1, 1), 26).unwrap_err();
    assert_eq!(err, VerityError::CommitmentMismatch.into());
    let err = r.reveal(&key, 0, [1; 32], [0; 32], (1, 17), 26).unwrap_err();
    assert_eq!(err, VerityError::InvalidTokenCount.into());
    reveal(&mut r, &key, 0, 1, 26).unwrap();
    assert_eq!(reveal(&mut r, &key, 0, 1, 26).unwrap_err(), VerityError::AlreadyRevealed.into());
    assert_eq!(r.check_finalizable(27).unwrap_err(), VerityError::FinalizeTooEarly.into());
    assert_eq!(reveal(&mut r, &key, 1, 1, 31).unwrap_err(), VerityError::RevealWindowClosed.into());
    r.check_finalizable(31).unwrap();
}

#[test]
fn settle_majority_pays_and_slashes() {
    let (mut r, committee, key) = assigned(3, 1_000_003);
    r.param_count = 1000;
    commit(&mut r, &key, 0, 1, 21).unwrap();
    commit(&mut r, &key, 1, 1, 21).unwrap();
    commit(&mut r, &key, 2, 2, 22).unwrap();
    reveal(&mut r, &key, 0, 1, 23).unwrap();
    reveal(&mut r, &key, 1, 1, 24).unwrap();
    reveal(&mut r, &key, 2, 2, 24).unwrap();
    r.check_finalizable(24).unwrap();
    let mut ops = books(&committee);
    let s = {
        let mut refs: Vec<&mut Operator> = ops.iter_mut().collect();
        r.settle(&mut refs, 1000, 5000, 24).unwrap()
    };
    assert_eq!(r.status, RequestStatus::Finalized);
    assert_eq!(r.winning_hash, [1; 32]);
    // 10 % of 1000 slashed from the minority member: 50 to the treasury, 25 to each honest member.
    assert_eq!(s.slashed_total, 100);
    assert_eq!(s.slashed_to_treasury, 50);
    assert_eq!((ops[0].stake, ops[1].stake, ops[2].stake), (1025, 1025, 900));
    assert_eq!((ops[2].minority, ops[2].slashed_total, ops[0].agreed), (1, 100, 1));
    // Fee: royalty 100_000, protocol 50_000, rest 850_003 / 2 = 425_001 each, remainder 1 to the treasury.
    assert_eq!((s.royalty, s.treasury, s.refund), (100_000, 50_001, 0));
    assert_eq!(r.committee.members[0].reward, 425_001);
    assert_eq!(s.royalty + s.treasury + r.rewards_total, 1_000_003);
    assert_eq!(r.receipt.agreement_count, 2);
    assert_eq!(r.receipt.tokens_out, 7, "lower median of 7 and 8");
    assert_eq!(r.receipt.latency_slots, 3);
    assert_eq!(ops[0].earned_total, 425_001);
    // Work credited to the Agreed members is the receipt's (3 in + lower-median 7 out), not member 1's own 8.
    assert_eq!(r.receipt.approx_flops, 2 * 1000 * 10);
    for op in &ops[..2] {
        assert_eq!((op.tokens_served, op.flops_served), (10, 20_000));
    }
    assert_eq!((ops[2].tokens_served, ops[2].flops_served), (0, 0), "the minority member is credited nothing");
    assert_eq!(r.check_finalizable(25).unwrap_err(), VerityError::AlreadyFinalized.into());
}

#[test]
fn settle_without_majority_escalates() {
    let (mut r, committee, key) = assigned(3, 500);
    commit(&mut r, &key, 0, 1, 21).unwrap();
    commit(&mut r, &key, 1, 2, 21).unwrap();
    reveal(&mut r, &key, 0, 1, 26).unwrap();
    r.check_finalizable(31).unwrap();
    let mut ops = books(&committee);
    let s = {
        let mut refs: Vec<&mut Operator> = ops.iter_mut().collect();
        r.settle(&mut refs, 1000, 0, 31).unwrap()
    };
    assert_eq!(r.status, RequestStatus::Escalated);
    assert_eq!(s.refund, 0, "the fee stays for the escalation round");
    assert_eq!(
        r.committee.members.iter().map(|m| m.outcome).collect::<Vec<_>>(),
        vec![Outcome::Inconclusive, Outcome::NoReveal, Outcome::NoCommit]
    );
    // No honest members: everything slashed goes to the treasury.
    assert_eq!((s.slashed_total, s.slashed_to_treasury), (200, 200));
    assert_eq!((ops[0].stake, ops[1].missed, ops[2].missed), (1000, 1, 1));
}

#[test]
fn settle_checks_operator_books() {
    let (mut r, committee, _) = assigned(2, 0);
    let mut ops = books(&committee);
    ops.swap(0, 1);
    let mut refs: Vec<&mut Operator> = ops.iter_mut().collect();
    assert_eq!(r.settle(&mut refs, 0, 0, 30).unwrap_err(), VerityError::WrongOperatorAccounts.into());
    let mut refs: Vec<&mut Operator> = ops.iter_mut().take(1).collect();
    assert_eq!(r.settle(&mut refs, 0, 0, 30).unwrap_err(), VerityError::WrongOperatorAccounts.into());
}

#[test]
fn request_space_matches_serialized_size() {
    let (mut r, _, _) = assigned(7, 0);
    r.prompt = vec![0; 640];
    r.callback_program = Some(Pubkey::new_unique());
    r.prompt_account = Some(Pubkey::new_unique());
    assert_eq!(r.committee.members.len(), 7);
    let len = borsh::to_vec(&r).unwrap().len() + 8;
    assert_eq!(Request::space(640, 0, 7), len, "space for the k = 7 members of the first committee");
}

// ── second round (Dispute) ──

/// A fully revealed first round of `k` members where member i reveals `hashes[i]`, settled at slot 24.
fn settled(hashes: &[u8], fee: u64) -> (Request, Vec<Operator>) {
    let (mut r, committee, key) = assigned(hashes.len() as u8, fee);
    for (i, h) in hashes.iter().enumerate() {
        commit(&mut r, &key, i, *h, 21).unwrap();
    }
    for (i, h) in hashes.iter().enumerate() {
        reveal(&mut r, &key, i, *h, 23).unwrap();
    }
    let mut ops = books(&committee);
    {
        let mut refs: Vec<&mut Operator> = ops.iter_mut().collect();
        r.settle(&mut refs, 1000, 5000, 24).unwrap();
    }
    (r, ops)
}

/// An opened and drawn second round for `r` (7 members), with its key.
fn round(r: &Request, kind: DisputeKind, bond: u64, locked_first: u16) -> (Dispute, Vec<Operator>, Pubkey) {
    let members: Vec<Pubkey> = (0..7).map(|_| Pubkey::new_unique()).collect();
    let mut d = Dispute {
        request: Pubkey::new_unique(),
        kind,
        phase: DisputePhase::Open,
        verdict: Verdict::Pending,
        opener: Pubkey::new_unique(),
        bond,
        challenger_reward: 0,
        original_hash: if kind == DisputeKind::Challenge { r.winning_hash } else { [0; 32] },
        winning_hash: [0; 32],
        committee_size: Dispute::size_for(r.committee_size),
        max_tokens: r.max_tokens,
        open_slot: 30,
        resolved_slot: 0,
        committee: Round::default(),
        locked_first,
        rewards_total: 0,
        rewards_claimed: 0,
        bump: 0,
        terms: crate::state::RequestTerms {
            commit_window: COMMIT_WINDOW,
            reveal_window: REVEAL_WINDOW,
            ..Default::default()
        },
    };
    assert_eq!(d.committee_size, 7);
    d.assign(&members, 32, COMMIT_WINDOW).unwrap();
    assert_eq!(d.assign(&members, 32, 1).unwrap_err(), VerityError::DisputeNotOpen.into());
    (d, books(&members), Pubkey::new_unique())
}

/// Member i of the round reveals `plan[i]` (0: silent).
fn play(d: &mut Dispute, key: &Pubkey, plan: &[u8]) {
    for (i, h) in plan.iter().enumerate().filter(|(_, h)| **h != 0) {
        let c = commitment_hash(key, &d.committee.members[i].operator, &[*h; 32], &[i as u8; 32]);
        d.commit(i, c, 33).unwrap();
    }
    d.open_reveal_if_due(38).unwrap();
    for (i, h) in plan.iter().enumerate().filter(|(_, h)| **h != 0) {
        d.reveal(key, i, [*h; 32], [i as u8; 32], (3, 5), 38).unwrap();
    }
}

fn resolve(d: &mut Dispute, r: &mut Request, ops: &mut [Operator], first: &mut [Operator], now: u64) -> Resolution {
    let mut refs: Vec<&mut Operator> = ops.iter_mut().collect();
    let mut firsts: Vec<&mut Operator> = first.iter_mut().collect();
    d.resolve(r, &mut refs, &mut firsts, 1000, 5000, now).unwrap()
}

#[test]
fn overturn_conserves_fee_and_stake() {
    let (mut r, first_ops) = settled(&[1, 1, 2], 1_000_003);
    assert_eq!(r.status, RequestStatus::Finalized);
    r.round = 1;
    r.status = RequestStatus::Disputed;
    let (mut d, mut ops, key) = round(&r, DisputeKind::Challenge, 999, 0b011);
    play(&mut d, &key, &[2, 2, 2, 2, 1, 0, 2]);
    // Every committed member revealed: resolvable at once.
    d.check_resolvable(38, 10).unwrap();
    let mut first: Vec<Operator> = first_ops[..2].to_vec();
    let rewards_before = r.rewards_total;
    let res = resolve(&mut d, &mut r, &mut ops, &mut first, 43);
    assert_eq!((d.verdict, r.status, r.winning_hash), (Verdict::Overturned, RequestStatus::Finalized, [2; 32]));
    assert_eq!(r.committee.members[0].outcome, Outcome::Overturned);
    // Lamports: forfeited rewards = challenger + round rewards + treasury remainder; bond back.
    assert_eq!(res.challenger_from_request + res.dispute_from_request + res.treasury_from_request, rewards_before);
    assert_eq!(res.bond_back, 999);
    assert_eq!(d.rewards_total, res.dispute_from_request);
    assert_eq!(r.royalty_paid + r.protocol_fee_paid + r.rewards_total + r.dispute_paid, r.fee);
    // Stake: overturned members (2), the round's minority (1) and silent (1) slashed; split treasury / 5 agreed.
    assert_eq!(res.slashed.iter().filter(|s| s.committee == Committee::First).count(), 2);
    let credited: u64 = d.committee.members.iter().map(|m| m.slash_share).sum();
    assert_eq!(res.slashed_to_treasury + credited, res.slashed_total);
    assert_eq!(d.check_resolvable(44, 10).unwrap_err(), VerityError::DisputeAlreadyResolved.into());
    assert!(d.is_majority_writer(&d.committee.members[0].operator.clone(), &[2; 32]));
    assert!(!d.is_majority_writer(&d.committee.members[4].operator.clone(), &[2; 32]));
}

#[test]
fn uphold_shares_the_bond_and_escalation_decides_or_refunds() {
    let (mut r, _) = settled(&[1, 1, 1], 500);
    r.round = 1;
    let (mut d, mut ops, key) = round(&r, DisputeKind::Challenge, 1_003, 0b111);
    play(&mut d, &key, &[1, 1, 1, 1, 1, 1, 2]);
    let res = resolve(&mut d, &mut r, &mut ops, &mut [], 43);
    assert_eq!((d.verdict, r.status, r.rewards_total), (Verdict::Upheld, RequestStatus::Finalized, 500 - 50 - 25 - 2));
    assert_eq!((d.rewards_total, res.treasury_from_dispute, res.bond_back), (1_003 / 6 * 6, 1_003 % 6, 0));

    // Escalation from a split: a 4-of-7 majority decides and takes the fee's member share.
    let (mut r, _) = settled(&[1, 2, 3], 1_000);
    assert_eq!(r.status, RequestStatus::Escalated);
    r.round = 1;
    let (mut d, mut ops, key) = round(&r, DisputeKind::Escalation, 0, 0);
    play(&mut d, &key, &[3, 3, 3, 3, 1, 2, 0]);
    let res = resolve(&mut d, &mut r, &mut ops, &mut [], 43);
    assert_eq!((d.verdict, r.status, r.winning_hash), (Verdict::Decided, RequestStatus::Finalized, [3; 32]));
    assert_eq!((res.royalty, res.treasury_from_request, res.dispute_from_request), (100, 50 + 2, 4 * 212));
    assert_eq!(r.royalty_paid + r.protocol_fee_paid + r.rewards_total + r.dispute_paid, r.fee);

    // Escalation without a majority, and with no committee: refund.
    let (mut r, _) = settled(&[1, 2, 3], 1_000);
    let (mut d, mut ops, key) = round(&r, DisputeKind::Escalation, 0, 0);
    play(&mut d, &key, &[1, 1, 1, 2, 2, 2, 3]);
    let res = resolve(&mut d, &mut r, &mut ops, &mut [], 43);
    assert_eq!((d.verdict, r.status, res.refund), (Verdict::NoMajority, RequestStatus::NoConsensus, 1_000));
    let (mut r, _) = settled(&[1, 2, 3], 1_000);
    let (mut d, _, _) = round(&r, DisputeKind::Escalation, 0, 0);
    d.phase = DisputePhase::Open;
    d.committee.members.clear();
    assert_eq!(d.check_resolvable(40, 10).unwrap_err(), VerityError::DisputeRoundRunning.into());
    d.check_resolvable(41, 10).unwrap();
    let res = resolve(&mut d, &mut r, &mut [], &mut [], 41);
    assert_eq!((d.verdict, r.status, res.refund), (Verdict::NoCommittee, RequestStatus::NoConsensus, 1_000));
}

#[test]
fn dispute_space_holds_fifteen_members() {
    let (r, _) = settled(&[1, 1, 1], 0);
    let (mut d, _, _) = round(&r, DisputeKind::Challenge, 0, 0);
    d.committee.members = (0..crate::constants::MAX_MEMBERS).map(|_| Member::new(Pubkey::new_unique())).collect();
    assert_eq!(borsh::to_vec(&d).unwrap().len(), Dispute::INIT_SPACE);
    assert_eq!(Dispute::size_for(7), 15);
}
