//! The full lifecycle with k = 3 (submit → assign → 3 commits → 3 reveals → finalize → output chunks → claims →
//! close), asserting every lamport and token balance, counter, receipt field and status on the way; and the
//! short path where the last reveal finalizes and stores the answer (`reveal_and_finalize`).
use {
    verity::{events::OutputWritten, MemberState, Outcome, RequestFinalized, RequestStatus, VerityError},
    verity_tests::{events, pda, submit_args, Protocol, Signer, OUTPUT_CAPACITY, SOL},
};

const PROMPT: &str = "What is the capital of France? Answer in one word.";
const ANSWER: &str = "Paris. It has been the capital of France since the 10th century, and it is its largest city.";
const FEE: u64 = 1_000_003; // not divisible: exercises the remainder-to-treasury rule
const MAX_TOKENS: u32 = 20;

#[tokio::test]
async fn full_lifecycle_k3_conserves_every_lamport_and_token() {
    let mut p = Protocol::standard().await;
    let requester = p.requester(10 * SOL).await;
    let owner = p.models[0].owner.pubkey();
    let ops: Vec<_> = p.operators.iter().map(|o| o.authority.pubkey()).collect();
    let request = pda::request(&requester.pubkey(), 1);
    let output = pda::output(&request);
    let mut watched = vec![requester.pubkey(), owner, p.treasury, request, output];
    watched.extend(ops.iter().copied());
    let total_before = p.env.lamports_sum(&watched).await;
    let vault_before = p.vault_balance().await;
    let (req0, owner0, treasury0) =
        (p.env.lamports(&requester.pubkey()).await, p.env.lamports(&owner).await, p.env.lamports(&p.treasury).await);
    let mut op0 = Vec::new();
    for i in 0..3 {
        op0.push(p.operator_lamports(i).await);
    }

    // ── submit ──
    let submit_slot = p.env.slot().await;
    p.submit(&requester, 0, submit_args(1, PROMPT, MAX_TOKENS, FEE)).await;
    let r = p.request(&request).await;
    let request_rent = p.env.rent_exempt(verity::Request::space(PROMPT.len(), 0, 3)).await;
    let output_rent = p.env.rent_exempt(verity::Output::space(OUTPUT_CAPACITY)).await;
    assert_eq!(p.env.lamports(&request).await, request_rent + FEE, "fee escrowed above rent");
    assert_eq!(p.env.lamports(&output).await, output_rent);
    assert_eq!(p.env.lamports(&requester.pubkey()).await, req0 - FEE - request_rent - output_rent);
    assert_eq!(r.status, RequestStatus::Pending);
    assert_eq!((r.requester, r.nonce, r.model, r.model_owner), (requester.pubkey(), 1, p.models[0].key, owner));
    assert_eq!(r.prompt, PROMPT.as_bytes());
    assert_eq!(r.prompt_hash, pda::sha256(&[PROMPT.as_bytes()]));
    assert_eq!((r.max_tokens, r.fee, r.committee_size, r.submit_slot), (MAX_TOKENS, FEE, 3, submit_slot));
    assert_eq!(r.profile_hash, p.models[0].params.profile_hash);
    assert_eq!((r.price_per_token, r.royalty_bps, r.protocol_fee_bps), (1_000, 1_000, 500));
    assert!(r.committee.members.is_empty());
    assert_eq!(p.config().await.request_count, 1);
    let model: verity::Model = p.env.account(&p.models[0].key).await;
    assert_eq!(model.request_count, 1);

    // ── assign ──
    let committee = p.assign(&request).await;
    let assign_slot = p.env.slot().await;
    let r = p.request(&request).await;
    assert_eq!(r.status, RequestStatus::Committing);
    let mut sorted = committee.clone();
    sorted.sort();
    assert_eq!(sorted, vec![0, 1, 2], "k = 3 of 3 operators: everyone, once");
    assert_eq!(
        (r.committee.assign_slot, r.committee.commit_deadline),
        (assign_slot, assign_slot + p.params.commit_window)
    );
    assert!(r.committee.seed_slot > submit_slot && r.committee.seed != [0; 32]);
    assert!(r.committee.members.iter().all(|m| m.state == MemberState::Assigned && m.outcome == Outcome::Pending));
    assert!(p.registry().await.entries.iter().all(|e| e.open_assignments == 1));

    // ── commits ──
    for (n, &op) in committee.iter().enumerate() {
        p.env.warp_by(1).await;
        p.commit(&request, op, 0, ANSWER).await;
        let r = p.request(&request).await;
        assert_eq!(r.committee.committed_count as usize, n + 1);
        let expected = if n < 2 { RequestStatus::Committing } else { RequestStatus::Revealing };
        assert_eq!(r.status, expected, "reveal opens when all committed");
    }
    let r = p.request(&request).await;
    assert_eq!(r.committee.reveal_deadline, p.env.slot().await + p.params.reveal_window);
    for m in &r.committee.members {
        let auth = m.operator;
        let i = ops.iter().position(|k| *k == auth).unwrap();
        let want = pda::commitment(&request, &auth, &p.output_hash(0, ANSWER), &verity_tests::salt(i));
        assert_eq!(m.commitment, want, "commitment stored as sent");
    }

    // ── reveals (different token counts: the receipt takes the lower median) ──
    let tokens = [(12, 19), (12, 20), (13, 20)];
    for (n, &op) in committee.iter().enumerate() {
        p.env.warp_by(1).await;
        p.reveal(&request, op, 0, ANSWER, tokens[n]).await;
        assert_eq!(p.request(&request).await.committee.revealed_count as usize, n + 1);
    }

    // ── finalize (all revealed: no need to wait for the deadline) ──
    p.env.warp_by(1).await;
    let fin_slot = p.env.slot().await;
    p.finalize(&request).await;
    let r = p.request(&request).await;
    let royalty = FEE / 10;
    let protocol = FEE * 5 / 100;
    let per_member = (FEE - royalty - protocol) / 3;
    let remainder = (FEE - royalty - protocol) % 3;
    assert_eq!(r.status, RequestStatus::Finalized);
    assert_eq!(r.finalized_slot, fin_slot);
    assert_eq!(r.winning_hash, p.output_hash(0, ANSWER));
    assert_eq!((r.royalty_paid, r.protocol_fee_paid), (royalty, protocol + remainder));
    assert_eq!((r.rewards_total, r.rewards_claimed), (3 * per_member, 0));
    assert!(r
        .committee
        .members
        .iter()
        .all(|m| m.outcome == Outcome::Agreed && m.reward == per_member && m.slashed == 0));
    let rc = r.receipt;
    let mut lat: Vec<u64> = r.committee.members.iter().map(|m| m.reveal_slot - assign_slot).collect();
    lat.sort();
    assert_eq!((rc.model, rc.tokens_in, rc.tokens_out, rc.latency_slots), (p.models[0].key, 12, 20, lat[1]));
    assert_eq!((rc.fee_paid, rc.price_per_token, rc.committee_size, rc.agreement_count), (FEE, 1_000, 3, 3));
    assert_eq!(p.env.lamports(&owner).await, owner0 + royalty);
    assert_eq!(p.env.lamports(&p.treasury).await, treasury0 + protocol + remainder);
    assert_eq!(p.env.lamports(&request).await, request_rent + 3 * per_member);
    assert_eq!(p.vault_balance().await, vault_before, "nobody slashed: vault unchanged");
    for i in 0..3 {
        let o = p.operator(i).await;
        assert_eq!((o.assigned, o.agreed, o.minority, o.missed, o.slashed_total), (1, 1, 0, 0, 0));
        assert_eq!((o.stake, o.earned_total), (100_000, per_member));
        // Each member's work is the receipt's (12 + 20 tokens: lower medians), whatever it reported itself.
        assert_eq!((o.tokens_served, o.flops_served), (32, u128::from(rc.approx_flops)));
    }
    assert_eq!(rc.approx_flops, 2 * 134_515_008 * 32);
    assert!(p.registry().await.entries.iter().all(|e| e.open_assignments == 0));

    // ── output in two chunks by a majority member ──
    let writer = p.operators[committee[0]].authority.insecure_clone();
    let bytes = ANSWER.as_bytes();
    let total = bytes.len() as u32;
    let w1 = p.ix_write_output(&writer.pubkey(), &request, 0, total, &bytes[..40]);
    p.env.ok(&[w1], &[&writer]).await;
    let o: verity::Output = p.env.account(&output).await;
    assert!(!o.complete && o.data == bytes[..40]);
    let w2 = p.ix_write_output(&writer.pubkey(), &request, 40, total, &bytes[40..]);
    p.env.ok(&[w2], &[&writer]).await;
    let o: verity::Output = p.env.account(&output).await;
    assert!(o.complete);
    assert_eq!((o.data.as_slice(), o.total_len, o.last_writer), (bytes, total, writer.pubkey()));
    assert_eq!(p.env.lamports(&output).await, output_rent, "writes do not change the output's lamports");

    // ── claims after the dispute window ──
    p.pass_dispute_window(&request).await;
    for i in 0..3 {
        let claim = p.ix_claim(&request, &ops[i]);
        p.env.ok(&[claim], &[]).await;
        assert_eq!(p.operator_lamports(i).await, op0[i] + per_member);
    }
    let r = p.request(&request).await;
    assert_eq!(r.rewards_claimed, r.rewards_total);
    assert!(r.committee.members.iter().all(|m| m.claimed));
    assert_eq!(p.env.lamports(&request).await, request_rent, "escrow empty: only rent left");

    // ── close: the requester reclaims both rents ──
    let before_close = p.env.lamports(&requester.pubkey()).await;
    let close = p.ix_close(&requester.pubkey(), &request);
    p.env.ok(&[close], &[&requester]).await;
    assert!(!p.env.exists(&request).await && !p.env.exists(&output).await);
    assert_eq!(p.env.lamports(&requester.pubkey()).await, before_close + request_rent + output_rent);
    assert_eq!(p.env.lamports(&requester.pubkey()).await, req0 - FEE, "requester paid exactly the fee");

    // ── conservation ──
    assert_eq!(p.env.lamports_sum(&watched).await, total_before, "lamports conserved across the lifecycle");
    assert_eq!(p.vault_balance().await, vault_before);
    assert_eq!(royalty + protocol + remainder + 3 * per_member, FEE);
    p.assert_vault_matches_books().await;
}

/// Commits `text` for every member of `request`, then reveals it for all but the last one; returns the committee.
async fn all_but_last_revealed(p: &mut Protocol, request: &verity_tests::Pubkey, texts: &[&str]) -> Vec<usize> {
    let c = p.assign(request).await;
    for (n, &op) in c.iter().enumerate() {
        p.commit(request, op, 0, texts[n]).await;
    }
    for (n, &op) in c.iter().enumerate().take(c.len() - 1) {
        p.reveal(request, op, 0, texts[n], (12, 19 + n as u32)).await;
    }
    c
}

#[tokio::test]
async fn last_reveal_settles_like_finalize_and_stores_the_answer() {
    let mut p = Protocol::standard().await;
    let requester = p.requester(10 * SOL).await;
    let owner = p.models[0].owner.pubkey();
    let classic = p.submit(&requester, 0, submit_args(1, PROMPT, MAX_TOKENS, FEE)).await;
    let fused = p.submit(&requester, 0, submit_args(2, PROMPT, MAX_TOKENS, FEE)).await;
    let texts = [ANSWER; 3];
    let c1 = all_but_last_revealed(&mut p, &classic, &texts).await;
    let config = p.config().await;

    // The classic path: last reveal, finalize, write the output.
    p.reveal(&classic, c1[2], 0, ANSWER, (13, 20)).await;
    p.finalize(&classic).await;
    let writer = p.operators[c1[0]].authority.insecure_clone();
    let w = p.ix_write_output(&writer.pubkey(), &classic, 0, ANSWER.len() as u32, ANSWER.as_bytes());
    p.env.ok(&[w], &[&writer]).await;
    let (owner1, treasury1) = (p.env.lamports(&owner).await, p.env.lamports(&p.treasury).await);

    // The short path. A reveal_and_finalize that is not the round's last reveal is only a reveal.
    let c2 = p.assign(&fused).await;
    for &op in &c2 {
        p.commit(&fused, op, 0, ANSWER).await;
    }
    let r = p.request(&fused).await;
    let early = p.ix_reveal_and_finalize(&config, &fused, &r, c2[0], ANSWER, (12, 19), ANSWER.as_bytes());
    let a0 = p.operators[c2[0]].authority.insecure_clone();
    p.env.ok(&[early], &[&a0]).await;
    let r = p.request(&fused).await;
    assert_eq!((r.status, r.committee.revealed_count), (RequestStatus::Revealing, 1));
    let out: verity::Output = p.env.account(&pda::output(&fused)).await;
    assert!(out.data.is_empty() && !out.complete, "no output before the settlement");
    p.reveal(&fused, c2[1], 0, ANSWER, (12, 20)).await;
    let earned_before: Vec<u64> = {
        let mut v = Vec::new();
        for i in 0..3 {
            v.push(p.operator(i).await.earned_total);
        }
        v
    };
    let r = p.request(&fused).await;
    let last = p.ix_reveal_and_finalize(&config, &fused, &r, c2[2], ANSWER, (13, 20), ANSWER.as_bytes());
    let a2 = p.operators[c2[2]].authority.insecure_clone();
    let tx = p.env.ok(&[last], &[&a2]).await;

    // Same settlement as finalize_request: payouts, member outcomes, receipt, registry release.
    let (a, b) = (p.request(&classic).await, p.request(&fused).await);
    assert_eq!(b.status, RequestStatus::Finalized);
    assert_eq!(b.finalized_slot, p.env.slot().await);
    assert_eq!(
        (b.winning_hash, b.royalty_paid, b.protocol_fee_paid),
        (a.winning_hash, a.royalty_paid, a.protocol_fee_paid)
    );
    assert_eq!((b.rewards_total, b.rewards_claimed), (a.rewards_total, 0));
    let (ra, rb) = (a.receipt, b.receipt);
    assert_eq!((rb.tokens_in, rb.tokens_out, rb.fee_paid, rb.agreement_count), (ra.tokens_in, ra.tokens_out, FEE, 3));
    for (ma, mb) in a.committee.members.iter().zip(&b.committee.members) {
        assert_eq!((mb.outcome, mb.reward, mb.slashed, mb.state), (ma.outcome, ma.reward, ma.slashed, ma.state));
    }
    assert_eq!(p.env.lamports(&owner).await - owner1, a.royalty_paid);
    assert_eq!(p.env.lamports(&p.treasury).await - treasury1, a.protocol_fee_paid);
    let per_member = a.committee.members[0].reward;
    for (i, before) in earned_before.iter().enumerate() {
        assert_eq!(p.operator(i).await.earned_total, before + per_member);
    }
    assert!(p.registry().await.entries.iter().all(|e| e.open_assignments == 0));
    // The answer is stored and complete, as write_output would have left it, with both events logged.
    let (oa, ob): (verity::Output, verity::Output) =
        (p.env.account(&pda::output(&classic)).await, p.env.account(&pda::output(&fused)).await);
    assert!(ob.complete && oa.complete);
    assert_eq!((ob.data.as_slice(), ob.total_len, ob.last_writer), (ANSWER.as_bytes(), oa.total_len, a2.pubkey()));
    let fin: Vec<RequestFinalized> = events(&tx.logs);
    assert_eq!(fin.len(), 1);
    assert_eq!((fin[0].status, fin[0].rewards_total), (RequestStatus::Finalized, a.rewards_total));
    let written: Vec<OutputWritten> = events(&tx.logs);
    assert_eq!(written.len(), 1);
    assert!(written[0].complete && written[0].written == ANSWER.len() as u32);
    // The rewards unlock as after finalize_request.
    p.pass_dispute_window(&fused).await;
    for &op in &c2 {
        let claim = p.ix_claim(&fused, &p.operators[op].authority.pubkey());
        p.env.ok(&[claim], &[]).await;
    }
    assert_eq!(p.request(&fused).await.rewards_claimed, a.rewards_total);
    p.assert_vault_matches_books().await;
}

#[tokio::test]
async fn last_reveal_stores_only_the_winning_answer_of_an_agreed_member() {
    let mut p = Protocol::standard().await;
    let requester = p.requester(10 * SOL).await;
    let config = p.config().await;

    // The last revealer is in the minority: the request settles, its bytes are not stored, it is slashed.
    let minority = p.submit(&requester, 0, submit_args(1, PROMPT, MAX_TOKENS, FEE)).await;
    let c = all_but_last_revealed(&mut p, &minority, &[ANSWER, ANSWER, "Lyon."]).await;
    let r = p.request(&minority).await;
    let ixn = p.ix_reveal_and_finalize(&config, &minority, &r, c[2], "Lyon.", (13, 20), b"Lyon.");
    let liar = p.operators[c[2]].authority.insecure_clone();
    p.env.ok(&[ixn], &[&liar]).await;
    let r = p.request(&minority).await;
    assert_eq!((r.status, r.winning_hash), (RequestStatus::Finalized, p.output_hash(0, ANSWER)));
    assert_eq!(r.committee.members[2].outcome, Outcome::Minority);
    assert!(r.committee.members[2].slashed > 0);
    let out: verity::Output = p.env.account(&pda::output(&minority)).await;
    assert!(out.data.is_empty() && !out.complete, "a minority's bytes are never stored");
    // An agreed member still writes it.
    let w0 = p.operators[c[0]].authority.insecure_clone();
    let w = p.ix_write_output(&w0.pubkey(), &minority, 0, ANSWER.len() as u32, ANSWER.as_bytes());
    p.env.ok(&[w], &[&w0]).await;

    // An agreed last revealer with bytes that do not hash to the result: settled, nothing stored.
    let wrong = p.submit(&requester, 0, submit_args(2, PROMPT, MAX_TOKENS, FEE)).await;
    let c = all_but_last_revealed(&mut p, &wrong, &[ANSWER; 3]).await;
    let r = p.request(&wrong).await;
    let ixn = p.ix_reveal_and_finalize(&config, &wrong, &r, c[2], ANSWER, (13, 20), b"Paris!");
    let a2 = p.operators[c[2]].authority.insecure_clone();
    p.env.ok(&[ixn], &[&a2]).await;
    assert_eq!(p.request(&wrong).await.status, RequestStatus::Finalized);
    let out: verity::Output = p.env.account(&pda::output(&wrong)).await;
    assert!(out.data.is_empty() && !out.complete, "bytes of another hash are not stored");

    // Rejections keep everything: an outsider, and a last reveal without the members' Operator accounts
    // (the reveal does not land without its settlement).
    let third = p.submit(&requester, 0, submit_args(3, PROMPT, MAX_TOKENS, FEE)).await;
    let c = all_but_last_revealed(&mut p, &third, &[ANSWER; 3]).await;
    let r = p.request(&third).await;
    let outsider = p.add_operator(0).await;
    let o = p.operators[outsider].authority.insecure_clone();
    let ixn = p.ix_reveal_and_finalize(&config, &third, &r, outsider, ANSWER, (13, 20), ANSWER.as_bytes());
    p.env.expect_err(&[ixn], &[&o], VerityError::NotCommitteeMember).await;
    let mut ixn = p.ix_reveal_and_finalize(&config, &third, &r, c[2], ANSWER, (13, 20), ANSWER.as_bytes());
    ixn.accounts.pop();
    let a2 = p.operators[c[2]].authority.insecure_clone();
    p.env.expect_err(&[ixn], &[&a2], VerityError::WrongOperatorAccounts).await;
    let r = p.request(&third).await;
    assert_eq!((r.status, r.committee.revealed_count), (RequestStatus::Revealing, 2));
    p.assert_vault_matches_books().await;
}
