//! The full lifecycle with k = 3 (submit → assign → 3 commits → 3 reveals → finalize → output chunks → claims →
//! close), asserting every lamport and token balance, counter, receipt field and status on the way.
use {
    verity::{MemberState, Outcome, RequestStatus},
    verity_tests::{pda, submit_args, Protocol, Signer, OUTPUT_CAPACITY, SOL},
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
    }
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
