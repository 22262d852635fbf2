//! Disputes and escalations (k = 3, so the second round has 2k+1 = 7 members drawn outside the first committee):
//! a dispute that overturns, one that upholds, a dispute after the window, a double dispute, escalation from a
//! 1-1-1 split, escalation without enough operators, and each new instruction's rejections — asserting every
//! lamport and stake token on the way.
use {
    verity::{DisputeKind, DisputePhase, Outcome, RequestStatus, Verdict, VerityError},
    verity_tests::{default_params, pda, Keypair, Protocol, Pubkey, Signer, DEFAULT_FEE, SOL},
};

const ANSWER: &str = "The answer is 42.";
const LIE: &str = "The answer is 43.";
const OTHER: &str = "Something else.";
const STAKE: u64 = 100_000;

/// Config + model + 10 operators (3 for the first committee, 7 for the second round).
async fn ten() -> Protocol {
    Protocol::with_operators(default_params(), 10, STAKE).await
}

/// (vault, treasury stake account).
async fn tokens(p: &mut Protocol) -> (u64, u64) {
    let ts = p.treasury_stake;
    (p.vault_balance().await, p.env.token_balance(&ts).await)
}

/// Every wallet and escrow whose lamports only the program moves in these tests.
fn watched(p: &Protocol, req: &Keypair, request: &Pubkey, challenger: &Pubkey) -> Vec<Pubkey> {
    let mut keys = vec![req.pubkey(), p.models[0].owner.pubkey(), p.treasury, *request, pda::output(request)];
    keys.extend([pda::dispute(request), *challenger]);
    keys.extend(p.operators.iter().map(|o| o.authority.pubkey()));
    keys
}

#[tokio::test]
async fn dispute_that_overturns_slashes_the_first_majority_and_replaces_the_output() {
    let mut p = ten().await;
    let challenger = p.env.funded_keypair(10 * SOL).await;
    let (req, request, c) = p.first_round(&[Some(LIE), Some(LIE), Some(ANSWER)]).await;
    let r = p.request(&request).await;
    assert_eq!((r.status, r.winning_hash), (RequestStatus::Finalized, p.output_hash(0, LIE)));
    // The liars write their output before anyone disputes it.
    let liar = p.operators[c[0]].authority.insecure_clone();
    let w = p.ix_write_output(&liar.pubkey(), &request, 0, LIE.len() as u32, LIE.as_bytes());
    p.env.ok(&[w], &[&liar]).await;

    let keys = watched(&p, &req, &request, &challenger.pubkey());
    let lamports0 = p.env.lamports_sum(&keys).await;
    let (vault0, ts0) = tokens(&mut p).await;
    let (treasury0, ch0) = (p.env.lamports(&p.treasury).await, p.env.lamports(&challenger.pubkey()).await);
    let liar_stake = p.operator(c[0]).await.stake;
    assert_eq!(liar_stake, STAKE + 2_500, "credited half of the honest member's slash");

    // ── open: the bond is escrowed, rewards locked, the request cannot be closed ──
    let open = p.ix_open_dispute(&challenger.pubkey(), &request);
    p.env.ok(&[open], &[&challenger]).await;
    let d = p.dispute(&request).await;
    let dispute_rent = p.env.rent_exempt(8 + <verity::Dispute as anchor_lang::Space>::INIT_SPACE).await;
    assert_eq!(
        (d.kind, d.phase, d.verdict, d.bond, d.opener),
        (DisputeKind::Challenge, DisputePhase::Open, Verdict::Pending, 1_000_000, challenger.pubkey())
    );
    assert_eq!((d.committee_size, d.original_hash, d.locked_first), (7, p.output_hash(0, LIE), 0b011));
    assert_eq!(p.env.lamports(&pda::dispute(&request)).await, dispute_rent + 1_000_000);
    assert_eq!(p.env.lamports(&challenger.pubkey()).await, ch0 - dispute_rent - 1_000_000);
    let r = p.request(&request).await;
    assert_eq!((r.status, r.round), (RequestStatus::Disputed, 1));
    p.pass_dispute_window(&request).await;
    let claim = p.ix_claim(&request, &p.operators[c[0]].authority.pubkey());
    p.env.expect_err(&[claim], &[], VerityError::RewardsLocked).await;
    let close = p.ix_close(&req.pubkey(), &request);
    p.env.expect_err(&[close], &[&req], VerityError::RequestNotClosable).await;
    // The locked first majority cannot leave before the verdict.
    assert!(p.registry().await.entries.iter().filter(|e| e.open_assignments == 1).count() == 2);

    // ── the 2k+1 round: 7 fresh operators, all honest ──
    let dc = p.assign_dispute(&request).await;
    assert_eq!(dc.len(), 7);
    assert!(dc.iter().all(|o| !c.contains(o)), "the first committee is excluded");
    p.dispute_round(&request, &dc, &[Some(ANSWER); 7]).await;
    p.resolve_dispute(&request).await;

    // ── verdict: overturned ──
    let d = p.dispute(&request).await;
    let r = p.request(&request).await;
    let forfeited = 2 * 425_000u64; // (1_000_000 − 10 % royalty − 5 % protocol) / 2 each
    let to_challenger = forfeited / 2;
    let per_member = (forfeited - to_challenger) / 7;
    let remainder = forfeited - to_challenger - 7 * per_member;
    assert_eq!(
        (d.verdict, d.phase, d.winning_hash, d.challenger_reward),
        (Verdict::Overturned, DisputePhase::Resolved, p.output_hash(0, ANSWER), to_challenger)
    );
    assert_eq!(
        (r.status, r.winning_hash, r.rewards_total, r.dispute_paid),
        (RequestStatus::Finalized, p.output_hash(0, ANSWER), 0, forfeited)
    );
    assert_eq!(r.royalty_paid + r.protocol_fee_paid + r.rewards_total + r.dispute_paid, DEFAULT_FEE);
    assert_eq!((r.receipt.agreement_count, r.receipt.committee_size), (7, 7));
    assert_eq!(
        [r.committee.members[0].outcome, r.committee.members[1].outcome, r.committee.members[2].outcome],
        [Outcome::Overturned, Outcome::Overturned, Outcome::Minority]
    );
    assert!(d.committee.members.iter().all(|m| m.outcome == Outcome::Agreed && m.reward == per_member));
    assert_eq!(d.rewards_total, 7 * per_member);
    // Challenger: bond back + half of the forfeited rewards (it paid the dispute rent, returned at close).
    assert_eq!(p.env.lamports(&challenger.pubkey()).await, ch0 - dispute_rent + to_challenger);
    assert_eq!(p.env.lamports(&p.treasury).await, treasury0 + remainder);
    // Stake: each liar loses 10 %; half to the treasury, the rest shared by the 7 (remainder to the treasury).
    let slash = liar_stake / 10;
    let to_treasury = slash * 2 / 2 + (slash * 2 - slash * 2 / 2) % 7;
    let per_honest = (slash * 2 - slash * 2 / 2) / 7;
    for &op in &c[..2] {
        let o = p.operator(op).await;
        assert_eq!((o.stake, o.slashed_total), (liar_stake - slash, slash));
    }
    for &op in &dc {
        let o = p.operator(op).await;
        assert_eq!((o.stake, o.assigned, o.agreed, o.earned_total), (STAKE + per_honest, 1, 1, per_member));
        // The dispute majority is credited the new receipt's work.
        let served = u64::from(r.receipt.tokens_in + r.receipt.tokens_out);
        assert_eq!((o.tokens_served, o.flops_served), (served, u128::from(r.receipt.approx_flops)));
        assert!(served > 0);
    }
    assert_eq!(tokens(&mut p).await, (vault0 - to_treasury, ts0 + to_treasury));
    assert!(p.registry().await.entries.iter().all(|e| e.open_assignments == 0));

    // ── the output is replaced: cleared, and only the new majority may write it ──
    let o: verity::Output = p.env.account(&pda::output(&request)).await;
    assert!(!o.complete && o.data.is_empty());
    let w = p.ix_write_output(&liar.pubkey(), &request, 0, LIE.len() as u32, LIE.as_bytes());
    p.env.expect_err(&[w], &[&liar], VerityError::NotMajorityMember).await;
    let writer = p.operators[dc[0]].authority.insecure_clone();
    let w = p.ix_write_output(&writer.pubkey(), &request, 0, ANSWER.len() as u32, ANSWER.as_bytes());
    p.env.expect_err(&[w], &[&writer], VerityError::NotCommitteeMember).await;
    let w = p.ix_write_output_dispute(&writer.pubkey(), &request, 0, ANSWER.len() as u32, ANSWER.as_bytes());
    p.env.ok(&[w], &[&writer]).await;
    let o: verity::Output = p.env.account(&pda::output(&request)).await;
    assert!(o.complete && o.data == ANSWER.as_bytes());

    // ── claims, closes: every lamport accounted for ──
    for &op in &dc {
        let before = p.operator_lamports(op).await;
        let claim = p.ix_claim_dispute_reward(&request, &p.operators[op].authority.pubkey());
        p.env.ok(std::slice::from_ref(&claim), &[]).await;
        assert_eq!(p.operator_lamports(op).await, before + per_member);
        p.env.expect_err(&[claim], &[], VerityError::AlreadyClaimed).await;
    }
    let claim = p.ix_claim(&request, &p.operators[c[0]].authority.pubkey());
    p.env.expect_err(&[claim], &[], VerityError::NothingToClaim).await;
    let close_d = p.ix_close_dispute(&request, &challenger.pubkey());
    p.env.ok(&[close_d], &[]).await;
    assert_eq!(p.env.lamports(&challenger.pubkey()).await, ch0 + to_challenger);
    let close = p.ix_close(&req.pubkey(), &request);
    p.env.ok(&[close], &[&req]).await;
    assert_eq!(p.env.lamports_sum(&keys).await, lamports0, "lamports conserved");
    p.assert_vault_matches_books().await;
}

#[tokio::test]
async fn dispute_that_upholds_shares_the_bond_among_the_upholding_members() {
    let mut p = ten().await;
    let challenger = p.env.funded_keypair(10 * SOL).await;
    let (req, request, c) = p.first_round(&[Some(ANSWER); 3]).await;
    let keys = watched(&p, &req, &request, &challenger.pubkey());
    let lamports0 = p.env.lamports_sum(&keys).await;
    let (vault0, ts0) = tokens(&mut p).await;
    let ch0 = p.env.lamports(&challenger.pubkey()).await;
    let open = p.ix_open_dispute(&challenger.pubkey(), &request);
    p.env.ok(&[open], &[&challenger]).await;
    let dc = p.assign_dispute(&request).await;
    // 5 uphold, 1 lies, 1 stays silent.
    let plan = [Some(ANSWER), Some(ANSWER), Some(LIE), Some(ANSWER), None, Some(ANSWER), Some(ANSWER)];
    p.dispute_round(&request, &dc, &plan).await;
    p.resolve_dispute(&request).await;
    let d = p.dispute(&request).await;
    let r = p.request(&request).await;
    assert_eq!(
        (d.verdict, r.status, r.winning_hash),
        (Verdict::Upheld, RequestStatus::Finalized, p.output_hash(0, ANSWER))
    );
    let per = 1_000_000 / 5;
    let slash = STAKE / 10;
    let per_honest = slash / 5; // 2 × slash, half to the treasury, the rest over 5
    for (j, &op) in dc.iter().enumerate() {
        let (m, o) = (d.committee.members[j], p.operator(op).await);
        match plan[j] {
            Some(ANSWER) => assert_eq!((m.outcome, m.reward, o.stake), (Outcome::Agreed, per, STAKE + per_honest)),
            Some(_) => assert_eq!((m.outcome, m.reward, o.stake, o.minority), (Outcome::Minority, 0, STAKE - slash, 1)),
            None => assert_eq!((m.outcome, o.stake, o.missed), (Outcome::NoCommit, STAKE - slash, 1)),
        }
    }
    assert_eq!(tokens(&mut p).await, (vault0 - slash, ts0 + slash));
    assert_eq!(
        p.env.lamports(&challenger.pubkey()).await,
        ch0 - 1_000_000 - p.env.rent_exempt(8 + <verity::Dispute as anchor_lang::Space>::INIT_SPACE).await
    );
    // The dispute ended: the first committee's rewards unlock at once; the upholders claim the bond.
    for &op in &c {
        let claim = p.ix_claim(&request, &p.operators[op].authority.pubkey());
        p.env.ok(&[claim], &[]).await;
    }
    for (j, &op) in dc.iter().enumerate() {
        let claim = p.ix_claim_dispute_reward(&request, &p.operators[op].authority.pubkey());
        if plan[j] == Some(ANSWER) {
            p.env.ok(&[claim], &[]).await;
        } else {
            p.env.expect_err(&[claim], &[], VerityError::NothingToClaim).await;
        }
    }
    p.env.ok(&[p.ix_close_dispute(&request, &challenger.pubkey())], &[]).await;
    p.env.ok(&[p.ix_close(&req.pubkey(), &request)], &[&req]).await;
    assert_eq!(p.env.lamports_sum(&keys).await, lamports0, "lamports conserved");
    p.assert_vault_matches_books().await;
}

#[tokio::test]
async fn dispute_after_the_window_or_before_finalize_is_rejected() {
    let mut p = ten().await;
    let challenger = p.env.funded_keypair(10 * SOL).await;
    let (_req, request, c) = p.assigned().await;
    let open = p.ix_open_dispute(&challenger.pubkey(), &request);
    p.env.expect_err(std::slice::from_ref(&open), &[&challenger], VerityError::NotDisputable).await;
    for &op in &c {
        p.commit(&request, op, 0, ANSWER).await;
    }
    for &op in &c {
        p.reveal(&request, op, 0, ANSWER, (1, 1)).await;
    }
    p.finalize(&request).await;
    p.pass_dispute_window(&request).await;
    let before = p.env.lamports(&challenger.pubkey()).await;
    p.env.expect_err(&[open], &[&challenger], VerityError::DisputeWindowClosed).await;
    assert_eq!(p.env.lamports(&challenger.pubkey()).await, before, "no bond taken");
    assert!(!p.env.exists(&pda::dispute(&request)).await);
    // The last slot of the window still accepts a dispute (window = [finalized, finalized + dispute_window)).
    let (_r2, request2) = {
        let q = p.requester(10 * SOL).await;
        let k = p.submit(&q, 0, verity_tests::submit_args(2, "again", 20, DEFAULT_FEE)).await;
        (q, k)
    };
    let c2 = p.assign(&request2).await;
    for &op in &c2 {
        p.commit(&request2, op, 0, ANSWER).await;
    }
    for &op in &c2 {
        p.reveal(&request2, op, 0, ANSWER, (1, 1)).await;
    }
    p.finalize(&request2).await;
    let r2 = p.request(&request2).await;
    p.env.warp_to(r2.finalized_slot + p.params.dispute_window - 1).await;
    let open2 = p.ix_open_dispute(&challenger.pubkey(), &request2);
    p.env.ok(&[open2], &[&challenger]).await;
}

#[tokio::test]
async fn double_dispute_is_rejected_while_open_and_after_resolution() {
    let mut p = ten().await;
    let (a, b) = (p.env.funded_keypair(10 * SOL).await, p.env.funded_keypair(10 * SOL).await);
    let (_req, request, _c) = p.first_round(&[Some(ANSWER); 3]).await;
    p.env.ok(&[p.ix_open_dispute(&a.pubkey(), &request)], &[&a]).await;
    let again = p.ix_open_dispute(&b.pubkey(), &request);
    p.env.expect_err(std::slice::from_ref(&again), &[&b], VerityError::AlreadyDisputed).await;
    let same = p.ix_open_dispute(&a.pubkey(), &request);
    p.env.expect_err(&[same], &[&a], VerityError::AlreadyDisputed).await;
    let dc = p.assign_dispute(&request).await;
    p.dispute_round(&request, &dc, &[Some(ANSWER); 7]).await;
    p.resolve_dispute(&request).await;
    p.env.expect_err(std::slice::from_ref(&again), &[&b], VerityError::AlreadyDisputed).await;
    // Even after the Dispute account is closed, the request stays disputed once.
    for &op in &dc {
        p.env.ok(&[p.ix_claim_dispute_reward(&request, &p.operators[op].authority.pubkey())], &[]).await;
    }
    p.env.ok(&[p.ix_close_dispute(&request, &a.pubkey())], &[]).await;
    p.env.expect_err(&[again], &[&b], VerityError::AlreadyDisputed).await;
}

#[tokio::test]
async fn escalation_from_a_1_1_1_split_decides_with_a_fresh_2k_plus_1_committee() {
    let mut p = ten().await;
    let cranker = p.env.funded_keypair(SOL).await;
    let (req, request, c) = p.first_round(&[Some(ANSWER), Some(LIE), Some(OTHER)]).await;
    let r = p.request(&request).await;
    assert_eq!(r.status, RequestStatus::Escalated);
    assert!(r.committee.members.iter().all(|m| m.outcome == Outcome::Inconclusive && m.slashed == 0));
    let request_rent = p.env.rent_exempt(verity::Request::space(10, 0, 3)).await;
    assert_eq!(p.env.lamports(&request).await, request_rent + DEFAULT_FEE, "fee still escrowed");
    let keys = watched(&p, &req, &request, &cranker.pubkey());
    let lamports0 = p.env.lamports_sum(&keys).await;
    let (owner0, treasury0) = (p.env.lamports(&p.models[0].owner.pubkey()).await, p.env.lamports(&p.treasury).await);
    let (vault0, ts0) = tokens(&mut p).await;
    // Not claimable, not closable, not expirable yet.
    let claim = p.ix_claim(&request, &p.operators[c[0]].authority.pubkey());
    p.env.expect_err(&[claim], &[], VerityError::RequestNotFinalized).await;
    p.env.expect_err(&[p.ix_close(&req.pubkey(), &request)], &[&req], VerityError::RequestNotClosable).await;
    p.env.expect_err(&[p.ix_expire(&request, &req.pubkey())], &[], VerityError::ExpireTooEarly).await;

    // ── anyone opens the escalation: no bond ──
    p.env.ok(&[p.ix_open_dispute(&cranker.pubkey(), &request)], &[&cranker]).await;
    let d = p.dispute(&request).await;
    assert_eq!((d.kind, d.bond, d.locked_first), (DisputeKind::Escalation, 0, 0));
    assert_eq!(p.request(&request).await.status, RequestStatus::Escalated);
    p.env.expect_err(&[p.ix_expire(&request, &req.pubkey())], &[], VerityError::RequestNotPending).await;
    let dc = p.assign_dispute(&request).await;
    assert!(dc.iter().all(|o| !c.contains(o)));
    // 4 of 7 agree: a strict majority of the 2k+1 round.
    let plan = [Some(ANSWER), Some(LIE), Some(ANSWER), Some(OTHER), Some(ANSWER), None, Some(ANSWER)];
    p.dispute_round(&request, &dc, &plan).await;
    p.resolve_dispute(&request).await;
    let d = p.dispute(&request).await;
    let r = p.request(&request).await;
    let (royalty, protocol) = (DEFAULT_FEE / 10, DEFAULT_FEE / 20);
    let per = (DEFAULT_FEE - royalty - protocol) / 4;
    assert_eq!(
        (d.verdict, r.status, r.winning_hash, r.round),
        (Verdict::Decided, RequestStatus::Finalized, p.output_hash(0, ANSWER), 1)
    );
    assert_eq!((r.royalty_paid, r.protocol_fee_paid, r.rewards_total, r.dispute_paid), (royalty, protocol, 0, 4 * per));
    assert_eq!(
        (r.receipt.fee_paid, r.receipt.agreement_count, r.receipt.committee_size, r.receipt.tokens_out),
        (DEFAULT_FEE, 4, 7, 9)
    );
    assert_eq!(p.env.lamports(&p.models[0].owner.pubkey()).await, owner0 + royalty);
    assert_eq!(p.env.lamports(&p.treasury).await, treasury0 + protocol);
    assert_eq!(p.env.lamports(&request).await, request_rent, "the rest moved to the dispute escrow");
    // 3 faulty members slashed 10 %: half to the treasury, half over the 4.
    let slash = STAKE / 10;
    let total = 3 * slash;
    let per_honest = (total - total / 2) / 4;
    let to_treasury = total / 2 + (total - total / 2) % 4;
    assert_eq!(tokens(&mut p).await, (vault0 - to_treasury, ts0 + to_treasury));
    for (j, &op) in dc.iter().enumerate() {
        let o = p.operator(op).await;
        if plan[j] == Some(ANSWER) {
            assert_eq!((d.committee.members[j].reward, o.stake), (per, STAKE + per_honest));
        } else {
            assert_eq!((d.committee.members[j].reward, o.stake), (0, STAKE - slash));
        }
    }
    // The escalation majority writes the output; rewards are claimable at once (no further dispute).
    let writer = p.operators[dc[0]].authority.insecure_clone();
    let w = p.ix_write_output_dispute(&writer.pubkey(), &request, 0, ANSWER.len() as u32, ANSWER.as_bytes());
    p.env.ok(&[w], &[&writer]).await;
    p.env
        .expect_err(&[p.ix_open_dispute(&cranker.pubkey(), &request)], &[&cranker], VerityError::AlreadyDisputed)
        .await;
    for (j, &op) in dc.iter().enumerate() {
        if plan[j] == Some(ANSWER) {
            p.env.ok(&[p.ix_claim_dispute_reward(&request, &p.operators[op].authority.pubkey())], &[]).await;
        }
    }
    p.env.ok(&[p.ix_close_dispute(&request, &cranker.pubkey())], &[]).await;
    p.env.ok(&[p.ix_close(&req.pubkey(), &request)], &[&req]).await;
    assert_eq!(p.env.lamports_sum(&keys).await, lamports0, "lamports conserved");
    p.assert_vault_matches_books().await;
}

#[tokio::test]
async fn escalation_without_enough_operators_or_majority_refunds() {
    // Only 3 operators: nobody is left for a second round.
    let mut p = Protocol::standard().await;
    let cranker = p.env.funded_keypair(SOL).await;
    let (req, request, _c) = p.first_round(&[Some(ANSWER), Some(LIE), Some(OTHER)]).await;
    let req0 = p.env.lamports(&req.pubkey()).await;
    p.env.ok(&[p.ix_open_dispute(&cranker.pubkey(), &request)], &[&cranker]).await;
    p.make_seed_available().await;
    p.env.expect_err(&[p.ix_assign_dispute(&request)], &[], VerityError::NotEnoughOperators).await;
    let r = p.request(&request).await;
    let d = p.dispute(&request).await;
    let resolve = p.ix_resolve_dispute(&request, &r, &d);
    p.env.expect_err(std::slice::from_ref(&resolve), &[], VerityError::DisputeRoundRunning).await;
    p.env.warp_to(d.open_slot + p.params.assign_window + 1).await;
    p.env.expect_err(&[p.ix_assign_dispute(&request)], &[], VerityError::AssignWindowClosed).await;
    p.env.ok(std::slice::from_ref(&resolve), &[]).await;
    let (r, d) = (p.request(&request).await, p.dispute(&request).await);
    assert_eq!((r.status, d.verdict), (RequestStatus::NoConsensus, Verdict::NoCommittee));
    assert_eq!(p.env.lamports(&req.pubkey()).await, req0 + DEFAULT_FEE, "fee refunded");
    p.env.expect_err(&[resolve], &[], VerityError::DisputeAlreadyResolved).await;
    p.env.ok(&[p.ix_close_dispute(&request, &cranker.pubkey())], &[]).await;
    p.env.ok(&[p.ix_close(&req.pubkey(), &request)], &[&req]).await;

    // 10 operators, but the escalation round splits too: refund, faulty members slashed to the treasury.
    let mut p = ten().await;
    let cranker = p.env.funded_keypair(SOL).await;
    let (req, request, _c) = p.first_round(&[Some(ANSWER), Some(LIE), None]).await;
    let req0 = p.env.lamports(&req.pubkey()).await;
    p.env.ok(&[p.ix_open_dispute(&cranker.pubkey(), &request)], &[&cranker]).await;
    let dc = p.assign_dispute(&request).await;
    let (_, ts0) = tokens(&mut p).await;
    p.dispute_round(
        &request,
        &dc,
        &[Some(ANSWER), Some(ANSWER), Some(ANSWER), Some(LIE), Some(LIE), Some(OTHER), None],
    )
    .await;
    p.resolve_dispute(&request).await;
    let (r, d) = (p.request(&request).await, p.dispute(&request).await);
    assert_eq!((r.status, d.verdict), (RequestStatus::NoConsensus, Verdict::NoMajority));
    assert!(d.committee.members[..6].iter().all(|m| m.outcome == Outcome::Inconclusive));
    assert_eq!(p.env.lamports(&req.pubkey()).await, req0 + DEFAULT_FEE);
    assert_eq!(tokens(&mut p).await.1, ts0 + STAKE / 10, "the silent member's slash, all to the treasury");
    p.env.ok(&[p.ix_close_dispute(&request, &cranker.pubkey())], &[]).await;
    p.assert_vault_matches_books().await;
}

#[tokio::test]
async fn dispute_round_instructions_reject_out_of_turn_and_foreign_callers() {
    let mut p = ten().await;
    let ch = p.env.funded_keypair(10 * SOL).await;
    let (_req, request, c) = p.first_round(&[Some(ANSWER); 3]).await;
    // Nothing exists before the dispute is opened.
    let claim = p.ix_claim_dispute_reward(&request, &p.operators[c[0]].authority.pubkey());
    p.env.expect_err(&[claim], &[], anchor_lang::error::ErrorCode::AccountNotInitialized).await;
    p.env.ok(&[p.ix_open_dispute(&ch.pubkey(), &request)], &[&ch]).await;
    // Before the assignment: no commits; the seed slot's hash is not known yet.
    let first_member_commit = p.ix_commit_dispute_text(&request, c[0], 0, ANSWER);
    let auth0 = p.operators[c[0]].authority.insecure_clone();
    p.env.expect_err(std::slice::from_ref(&first_member_commit), &[&auth0], VerityError::NotCommitteeMember).await;
    p.env.expect_err(&[p.ix_assign_dispute(&request)], &[], VerityError::SlotHashNotYetAvailable).await;
    let r = p.request(&request).await;
    let d = p.dispute(&request).await;
    p.env.expect_err(&[p.ix_resolve_dispute(&request, &r, &d)], &[], VerityError::DisputeRoundRunning).await;
    let dc = p.assign_dispute(&request).await;
    p.env.expect_err(&[p.ix_assign_dispute(&request)], &[], VerityError::DisputeNotOpen).await;
    // A first-round member is not in the second round.
    p.env.expect_err(&[first_member_commit], &[&auth0], VerityError::NotCommitteeMember).await;
    let (m0, m1) = (p.operators[dc[0]].authority.insecure_clone(), p.operators[dc[1]].authority.insecure_clone());
    // A commitment bound to the request (first-round form) instead of the Dispute does not open.
    let wrong = pda::commitment(&request, &m0.pubkey(), &p.output_hash(0, ANSWER), &verity_tests::salt(dc[0]));
    p.env.ok(&[p.ix_commit_dispute(&m0.pubkey(), &request, wrong)], &[&m0]).await;
    p.env
        .expect_err(&[p.ix_commit_dispute_text(&request, dc[0], 0, ANSWER)], &[&m0], VerityError::AlreadyCommitted)
        .await;
    p.commit_dispute(&request, dc[1], 0, ANSWER).await;
    p.env
        .expect_err(&[p.ix_reveal_dispute_text(&request, dc[1], 0, ANSWER)], &[&m1], VerityError::RevealWindowNotOpen)
        .await;
    let d = p.dispute(&request).await;
    p.env.warp_to(d.committee.commit_deadline + 1).await;
    let late = p.ix_commit_dispute_text(&request, dc[2], 0, ANSWER);
    let m2 = p.operators[dc[2]].authority.insecure_clone();
    p.env.expect_err(&[late], &[&m2], VerityError::CommitWindowClosed).await;
    p.env
        .expect_err(&[p.ix_reveal_dispute_text(&request, dc[0], 0, ANSWER)], &[&m0], VerityError::CommitmentMismatch)
        .await;
    p.env.expect_err(&[p.ix_reveal_dispute_text(&request, dc[2], 0, ANSWER)], &[&m2], VerityError::NotCommitted).await;
    p.reveal_dispute(&request, dc[1], 0, ANSWER).await;
    p.env
        .expect_err(&[p.ix_reveal_dispute_text(&request, dc[1], 0, ANSWER)], &[&m1], VerityError::AlreadyRevealed)
        .await;
    // Resolve: still running until the reveal deadline (one committed member has not revealed).
    let (r, d) = (p.request(&request).await, p.dispute(&request).await);
    p.env.expect_err(&[p.ix_resolve_dispute(&request, &r, &d)], &[], VerityError::DisputeRoundRunning).await;
    p.pass_dispute_reveal_deadline(&request).await;
    p.env
        .expect_err(&[p.ix_reveal_dispute_text(&request, dc[1], 0, ANSWER)], &[&m1], VerityError::RevealWindowClosed)
        .await;
    let claim = p.ix_claim_dispute_reward(&request, &m1.pubkey());
    p.env.expect_err(std::slice::from_ref(&claim), &[], VerityError::DisputeNotResolved).await;
    p.env.expect_err(&[p.ix_close_dispute(&request, &ch.pubkey())], &[], VerityError::DisputeNotResolved).await;
    // Wrong remaining accounts, wrong opener.
    let mut short = Protocol::resolve_remaining(&r, &d);
    short.pop();
    p.env
        .expect_err(&[p.ix_resolve_dispute_with(&request, &r, &d, short)], &[], VerityError::WrongOperatorAccounts)
        .await;
    let mut swapped = Protocol::resolve_remaining(&r, &d);
    swapped.swap(0, 1);
    p.env
        .expect_err(&[p.ix_resolve_dispute_with(&request, &r, &d, swapped)], &[], VerityError::WrongOperatorAccounts)
        .await;
    let mut fake = d.clone();
    fake.opener = m1.pubkey();
    p.env.expect_err(&[p.ix_resolve_dispute(&request, &r, &fake)], &[], VerityError::AccountMismatch).await;
    // 1 Agreed of 7: no majority → the result stands, the bond goes back.
    p.resolve_dispute(&request).await;
    let (r, d) = (p.request(&request).await, p.dispute(&request).await);
    assert_eq!(
        (d.verdict, r.status, r.winning_hash),
        (Verdict::NoMajority, RequestStatus::Finalized, p.output_hash(0, ANSWER))
    );
    p.env.expect_err(&[claim], &[], VerityError::NothingToClaim).await;
    p.env.ok(&[p.ix_close_dispute(&request, &ch.pubkey())], &[]).await;
    p.assert_vault_matches_books().await;
}

#[tokio::test]
async fn the_second_round_committee_is_the_spec_draw_without_the_first_committee() {
    use verity_tests::model_check as mc;
    let mut p = Protocol::new(default_params()).await;
    p.add_model(verity_tests::default_model_params()).await;
    for i in 0..12u64 {
        p.add_operator(10_000 + 7_919 * i).await;
    }
    p.activate_registry().await;
    let ch = p.env.funded_keypair(100 * SOL).await;
    for nonce in 1..=4u64 {
        let q = p.requester(10 * SOL).await;
        let request = p.submit(&q, 0, verity_tests::submit_args(nonce, "draw", 20, DEFAULT_FEE)).await;
        let c = p.assign(&request).await;
        for &op in &c {
            p.commit(&request, op, 0, ANSWER).await;
        }
        for &op in &c {
            p.reveal(&request, op, 0, ANSWER, (1, 1)).await;
        }
        p.finalize(&request).await;
        p.env.ok(&[p.ix_open_dispute(&ch.pubkey(), &request)], &[&ch]).await;
        let d = p.dispute(&request).await;
        p.make_seed_available().await;
        let (slot, hash) = mc::seed_entry(&p.env.slot_hashes().await, d.open_slot).expect("seed slot");
        let seed = mc::spec_seed(&hash, &request, 1);
        let first: Vec<Pubkey> = c.iter().map(|&o| p.operators[o].authority.pubkey()).collect();
        let entries = p.registry().await.entries;
        let pool: Vec<(Pubkey, u64)> = mc::eligible_at(&entries, 0, p.params.min_stake, d.open_slot)
            .into_iter()
            .filter(|(a, _)| !first.contains(a))
            .collect();
        let expected = mc::spec_draw(&pool, 7, &seed).expect("enough operators");
        p.env.ok(&[p.ix_assign_dispute(&request)], &[]).await;
        let d = p.dispute(&request).await;
        assert_eq!((d.committee.seed_slot, d.committee.seed), (slot, seed));
        assert_eq!(d.committee.members.iter().map(|m| m.operator).collect::<Vec<_>>(), expected, "request {nonce}");
    }
}
