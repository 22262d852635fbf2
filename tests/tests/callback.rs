//! The optional result callback: a consumer program (programs/verity-consumer, an agent) asks by CPI with its
//! PDA as requester and receives the answer through `deliver_callback`; failing or unknown callback programs
//! never block settlement and are recorded as Failed after the callback window; each rejection's own error.
use {
    anchor_lang::prelude::AccountMeta,
    anchor_spl::token::spl_token,
    verity::{CallbackStatus, RequestStatus, VerityError, CALLBACK_WINDOW},
    verity_tests::{consumer, pda, submit_args, Protocol, Pubkey, Signer, DEFAULT_FEE, SOL},
};

const PROMPT: &str = "What is 2 + 2? Answer with a number.";
const ANSWER: &str = "4";

/// Runs the first round of `request` with every member answering `text`.
async fn agree(p: &mut Protocol, request: &Pubkey, text: &str) {
    let c = p.assign(request).await;
    for &op in &c {
        p.commit(request, op, 0, text).await;
    }
    for &op in &c {
        p.reveal(request, op, 0, text, (9, 1)).await;
    }
    p.finalize(request).await;
}

#[tokio::test]
async fn consumer_program_round_trip_through_the_callback() {
    let mut p = Protocol::standard().await;
    let user = p.env.funded_keypair(10 * SOL).await;
    let agent = consumer::agent();
    let request = pda::request(&agent, 7);
    let user0 = p.env.lamports(&user.pubkey()).await;

    // ── ask: the agent PDA submits to Verity by CPI (the user funds the fee and the rents) ──
    let ask = p.ix_consumer_ask(&user.pubkey(), 0, 7, PROMPT, 20, DEFAULT_FEE, 64);
    p.env.ok(&[ask], &[&user]).await;
    let r = p.request(&request).await;
    assert_eq!(
        (r.requester, r.callback_program, r.callback_status),
        (agent, Some(verity_consumer::ID), CallbackStatus::Pending)
    );
    assert_eq!((r.status, r.fee, r.prompt.as_slice()), (RequestStatus::Pending, DEFAULT_FEE, PROMPT.as_bytes()));
    let request_rent = p.env.lamports(&request).await - DEFAULT_FEE;
    let output_rent = p.env.lamports(&pda::output(&request)).await;
    let answer_rent = p.env.lamports(&consumer::answer(&request)).await;
    assert_eq!(p.env.lamports(&user.pubkey()).await, user0 - DEFAULT_FEE - request_rent - output_rent - answer_rent);
    assert_eq!(p.env.lamports(&agent).await, 0, "the agent was funded with exactly what Verity took");
    let a = answer_of(&mut p, &request).await;
    assert_eq!((a.asker, a.request, a.answered), (user.pubkey(), request, false));

    // ── the round; the callback waits for the output and the end of the dispute window ──
    agree(&mut p, &request, ANSWER).await;
    // The callback's own account (the agent's Answer) is passed as the one extra account.
    let answer_meta = AccountMeta::new(consumer::answer(&request), false);
    let deliver = p.ix_deliver_callback(&request, &verity_consumer::ID, vec![answer_meta.clone()]);
    p.env.expect_err(std::slice::from_ref(&deliver), &[], VerityError::CallbackNotReady).await;
    let c = p.committee(&request).await;
    let writer = p.operators[c[0]].authority.insecure_clone();
    let w = p.ix_write_output(&writer.pubkey(), &request, 0, ANSWER.len() as u32, ANSWER.as_bytes());
    p.env.ok(&[w], &[&writer]).await;
    p.env.expect_err(std::slice::from_ref(&deliver), &[], VerityError::CallbackNotReady).await;
    p.pass_dispute_window(&request).await;
    p.env.expect_err(&[p.ix_expire_callback(&request)], &[], VerityError::CallbackWindowOpen).await;
    // Wrong program, too many accounts.
    let wrong = p.ix_deliver_callback(&request, &spl_token::ID, vec![]);
    p.env.expect_err(&[wrong], &[], VerityError::WrongCallbackProgram).await;
    let five = (0..5).map(|_| AccountMeta::new_readonly(Pubkey::new_unique(), false)).collect();
    p.env
        .expect_err(
            &[p.ix_deliver_callback(&request, &verity_consumer::ID, five)],
            &[],
            VerityError::TooManyCallbackAccounts,
        )
        .await;
    // Nobody but Verity can call the consumer's callback (its callback PDA must sign).
    let fake = p.env.funded_keypair(SOL).await;
    let direct = p.ix_consumer_on_result(&fake.pubkey(), &request, p.output_hash(0, ANSWER));
    p.env.expect_err(&[direct], &[&fake], verity_consumer::ConsumerError::NotVerity as u32 + 6000).await;
    // Without its Answer account the consumer fails: only this transaction fails, the callback stays pending.
    let bare = p.ix_deliver_callback(&request, &verity_consumer::ID, vec![]);
    p.env.expect_fail(&[bare], &[]).await;
    assert_eq!(p.request(&request).await.callback_status, CallbackStatus::Pending);

    // ── delivered: the agent stores the answer ──
    let ok = p.env.ok(std::slice::from_ref(&deliver), &[]).await;
    let ev = verity_tests::events::<verity::CallbackDelivered>(&ok.logs);
    assert_eq!(ev.len(), 1);
    assert_eq!((ev[0].program, ev[0].status), (verity_consumer::ID, CallbackStatus::Delivered));
    let a = answer_of(&mut p, &request).await;
    assert!(a.answered);
    assert_eq!((a.data.as_slice(), a.winning_hash), (ANSWER.as_bytes(), p.output_hash(0, ANSWER)));
    assert_eq!(p.request(&request).await.callback_status, CallbackStatus::Delivered);
    p.env.expect_err(&[deliver], &[], VerityError::CallbackNotPending).await;
    p.env.expect_err(&[p.ix_expire_callback(&request)], &[], VerityError::CallbackNotPending).await;
    // Settlement is unaffected: the members claim as usual.
    for &op in &c {
        let claim = p.ix_claim(&request, &p.operators[op].authority.pubkey());
        p.env.ok(&[claim], &[]).await;
    }
    // The asker reclaims every rent through the agent (Verity's close_request by CPI); only the fee was spent.
    let reclaim = p.ix_consumer_reclaim(&user.pubkey(), &request);
    let stranger = p.ix_consumer_reclaim(&fake.pubkey(), &request);
    p.env.expect_err(&[stranger], &[&fake], verity_consumer::ConsumerError::WrongRequest as u32 + 6000).await;
    p.env.ok(&[reclaim], &[&user]).await;
    assert!(!p.env.exists(&request).await && !p.env.exists(&consumer::answer(&request)).await);
    assert_eq!(p.env.lamports(&user.pubkey()).await, user0 - DEFAULT_FEE);
    assert_eq!(p.env.lamports(&agent).await, 0);
}

async fn answer_of(p: &mut Protocol, request: &Pubkey) -> verity_consumer::Answer {
    use anchor_lang::AccountDeserialize;
    let acct = p.env.get_account(&consumer::answer(request)).await.expect("answer account");
    assert_eq!(acct.owner, verity_consumer::ID);
    verity_consumer::Answer::try_deserialize(&mut acct.data.as_slice()).unwrap()
}

#[tokio::test]
async fn a_failing_callback_cannot_block_settlement_and_is_recorded_as_failed() {
    let mut p = Protocol::standard().await;
    let req = p.requester(10 * SOL).await;
    // The SPL Token program is executable but has no `on_result`: every delivery fails.
    let mut args = submit_args(1, "hi", 20, DEFAULT_FEE);
    args.callback_program = Some(spl_token::ID);
    let request = p.submit(&req, 0, args).await;
    agree(&mut p, &request, ANSWER).await;
    let c = p.committee(&request).await;
    let writer = p.operators[c[0]].authority.insecure_clone();
    let w = p.ix_write_output(&writer.pubkey(), &request, 0, ANSWER.len() as u32, ANSWER.as_bytes());
    p.env.ok(&[w], &[&writer]).await;
    p.pass_dispute_window(&request).await;
    let deliver = p.ix_deliver_callback(&request, &spl_token::ID, vec![]);
    let e = p.env.expect_fail(&[deliver], &[]).await;
    assert!(e.custom_code().is_none_or(|c| c < 6000), "the callee's failure, not Verity's: {:?}", e.err);
    let r = p.request(&request).await;
    assert_eq!((r.status, r.callback_status), (RequestStatus::Finalized, CallbackStatus::Pending));
    // Claims and close do not wait for the callback.
    for &op in &c {
        p.env.ok(&[p.ix_claim(&request, &p.operators[op].authority.pubkey())], &[]).await;
    }
    p.env.expect_err(&[p.ix_expire_callback(&request)], &[], VerityError::CallbackWindowOpen).await;
    let unlock = r.finalized_slot + p.params.dispute_window;
    p.env.warp_to(unlock + CALLBACK_WINDOW + 1).await;
    let ok = p.env.ok(&[p.ix_expire_callback(&request)], &[]).await;
    assert_eq!(verity_tests::events::<verity::CallbackExpired>(&ok.logs)[0].status, CallbackStatus::Failed);
    assert_eq!(p.request(&request).await.callback_status, CallbackStatus::Failed);
    p.env.ok(&[p.ix_close(&req.pubkey(), &request)], &[&req]).await;

    // A request without a result: the callback can be recorded Failed at once; without a callback: nothing to do.
    let mut args = submit_args(2, "hi", 20, DEFAULT_FEE);
    args.callback_program = Some(Pubkey::new_unique()); // not even a program
    let request = p.submit(&req, 0, args).await;
    p.env.expect_err(&[p.ix_expire_callback(&request)], &[], VerityError::CallbackWindowOpen).await;
    let r = p.request(&request).await;
    p.env.warp_to(r.submit_slot + p.params.assign_window + 1).await;
    p.env.ok(&[p.ix_expire(&request, &req.pubkey())], &[]).await;
    let deliver = p.ix_deliver_callback(&request, &r.callback_program.unwrap(), vec![]);
    p.env.expect_err(&[deliver], &[], VerityError::WrongCallbackProgram).await;
    p.env.ok(&[p.ix_expire_callback(&request)], &[]).await;
    assert_eq!(p.request(&request).await.callback_status, CallbackStatus::Failed);
    let request = p.submit(&req, 0, submit_args(3, "hi", 20, DEFAULT_FEE)).await;
    assert_eq!(p.request(&request).await.callback_status, CallbackStatus::None);
    p.env.expect_err(&[p.ix_expire_callback(&request)], &[], VerityError::CallbackNotPending).await;
    let deliver = p.ix_deliver_callback(&request, &verity_consumer::ID, vec![]);
    p.env.expect_err(&[deliver], &[], VerityError::CallbackNotPending).await;
}

/// tests/BUGS.md #8 (verity-consumer): an ask that expires unassigned is refunded to the agent PDA (Verity's
/// requester), where it used to stay: `reclaim` forwards the refund with the rents, so the asker loses nothing
/// and the agent holds nothing of it.
#[tokio::test]
async fn an_expired_ask_refunds_the_asker_through_reclaim() {
    // Operators staked but never in force before the ask: nobody can be drawn, the request expires.
    let mut p = Protocol::new(verity_tests::default_params()).await;
    p.add_model(verity_tests::default_model_params()).await;
    let user = p.env.funded_keypair(10 * SOL).await;
    let agent = consumer::agent();
    let request = pda::request(&agent, 9);
    let user0 = p.env.lamports(&user.pubkey()).await;
    let agent0 = p.env.lamports(&agent).await;
    p.env.ok(&[p.ix_consumer_ask(&user.pubkey(), 0, 9, PROMPT, 20, DEFAULT_FEE, 64)], &[&user]).await;
    let r = p.request(&request).await;
    p.env.warp_to(r.submit_slot + p.params.assign_window + 1).await;
    p.env.ok(&[p.ix_expire(&request, &agent)], &[]).await;
    assert_eq!(p.request(&request).await.status, RequestStatus::Expired);
    assert_eq!(p.env.lamports(&agent).await, agent0 + DEFAULT_FEE, "Verity refunded the fee to its requester");
    p.env.ok(&[p.ix_consumer_reclaim(&user.pubkey(), &request)], &[&user]).await;
    assert_eq!(p.env.lamports(&user.pubkey()).await, user0, "the asker got the fee and every rent back");
    assert_eq!(p.env.lamports(&agent).await, agent0, "nothing of this ask is left in the agent PDA");
}
