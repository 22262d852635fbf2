//! Long prompts in a `Prompt` account: a 4 KB and a maximum-size prompt through submit → assign → commit →
//! reveal → finalize → output → claims → close with every lamport of the requester back but the fee; and every
//! rejection with its own code — wrong hash, missing chunk, gap / overlap, strangers, an attached prompt, a
//! shared prompt, oversize, and `close_request` without (or with the wrong) Prompt.
use {
    verity::{
        events::{PromptClosed, PromptCreated, PromptWritten, RequestSubmitted},
        ModelParams, RequestStatus, VerityError, MAX_LONG_PROMPT_BYTES, MAX_PROMPT_BYTES,
    },
    verity_tests::{
        default_model_params, default_params, events, long_text, pda, prompt_account_args, submit_args, Keypair,
        Protocol, Pubkey, Signer, DEFAULT_FEE, DEFAULT_MAX_TOKENS, OUTPUT_CAPACITY, SOL,
    },
};

const ANSWER: &str = "A long prompt, answered by a committee that read it from its Prompt account.";

/// Config, one model accepting `max_input` bytes, 3 staked operators (drawable).
async fn protocol(max_input: u32) -> Protocol {
    let mut p = Protocol::new(default_params()).await;
    p.add_model(ModelParams { max_input_bytes: max_input, ..default_model_params() }).await;
    for _ in 0..3 {
        p.add_operator(100_000).await;
    }
    p.activate_registry().await;
    p
}

/// Drives `request` from submit to a closable state: the committee agrees on ANSWER, the output is written,
/// the rewards are claimed after the dispute window.
async fn settle(p: &mut Protocol, request: &Pubkey) {
    let committee = p.agree(request, ANSWER).await;
    p.finalize(request).await;
    let writer = p.operators[committee[0]].authority.insecure_clone();
    let w = p.ix_write_output(&writer.pubkey(), request, 0, ANSWER.len() as u32, ANSWER.as_bytes());
    p.env.ok(&[w], &[&writer]).await;
    p.pass_dispute_window(request).await;
    for op in committee {
        let claim = p.ix_claim(request, &p.operators[op].authority.pubkey());
        p.env.ok(&[claim], &[]).await;
    }
}

#[tokio::test]
async fn a_4kb_and_a_max_size_prompt_go_end_to_end_and_return_every_rent() {
    let mut p = protocol(MAX_LONG_PROMPT_BYTES).await;
    for (nonce, len) in [(1u64, 4_096usize), (2, MAX_LONG_PROMPT_BYTES as usize)] {
        let requester = p.requester(10 * SOL).await;
        let start = p.env.lamports(&requester.pubkey()).await;
        let bytes = long_text(len);
        let hash = pda::sha256(&[&bytes]);
        let key = pda::prompt(&requester.pubkey(), nonce);

        // create + chunks: the events carry the post-state.
        let create = p.ix_create_prompt(&requester.pubkey(), nonce, len as u32, hash);
        let ok = p.env.ok(&[create], &[&requester]).await;
        let created = events::<PromptCreated>(&ok.logs);
        assert_eq!(created.len(), 1);
        assert_eq!(
            (created[0].prompt, created[0].owner, created[0].len, created[0].hash),
            (key, requester.pubkey(), len as u32, hash)
        );
        let prompt_rent = p.env.rent_exempt(verity::Prompt::space(len as u32)).await;
        assert_eq!(p.env.lamports(&key).await, prompt_rent);
        for (n, chunk) in bytes.chunks(verity_tests::PROMPT_CHUNK).enumerate() {
            let offset = (n * verity_tests::PROMPT_CHUNK) as u32;
            let w = p.ix_write_prompt(&requester.pubkey(), &key, offset, chunk);
            let ok = p.env.ok(&[w], &[&requester]).await;
            let written = events::<PromptWritten>(&ok.logs);
            let e = &written[0];
            assert_eq!((e.prompt, e.offset, e.written, e.len), (key, offset, offset + chunk.len() as u32, len as u32));
        }
        let pr = p.prompt_account(&key).await;
        assert_eq!((pr.written, pr.len, pr.request, pr.data.as_slice()), (len as u32, len as u32, None, &bytes[..]));

        // submit: the Request names the Prompt and its hash; the Prompt is attached.
        let args = prompt_account_args(nonce, hash, DEFAULT_MAX_TOKENS, DEFAULT_FEE);
        let submit = p.ix_submit_with_prompt(&requester.pubkey(), &p.models[0].key, args, &key);
        let ok = p.env.ok(&[submit], &[&requester]).await;
        let request = pda::request(&requester.pubkey(), nonce);
        let r = p.request(&request).await;
        assert_eq!((r.prompt_account, r.prompt_hash, r.prompt.len(), r.prompt_uri.as_str()), (Some(key), hash, 0, ""));
        assert_eq!(events::<RequestSubmitted>(&ok.logs)[0].prompt_account, Some(key));
        assert_eq!(p.prompt_account(&key).await.request, Some(request));
        let request_rent = p.env.rent_exempt(verity::Request::space(0, 0, 3)).await;
        let output_rent = p.env.rent_exempt(verity::Output::space(OUTPUT_CAPACITY)).await;
        assert_eq!(p.env.lamports(&request).await, request_rent + DEFAULT_FEE);

        settle(&mut p, &request).await;
        assert_eq!(p.request(&request).await.status, RequestStatus::Finalized);
        assert_eq!(p.prompt_account(&key).await.data, bytes, "the prompt stayed readable for the whole round");

        // close: Request, Output and Prompt go; every rent comes back, the requester paid exactly the fee.
        let before = p.env.lamports(&requester.pubkey()).await;
        let close = p.ix_close_with_prompt(&requester.pubkey(), &request, Some(key));
        let ok = p.env.ok(&[close], &[&requester]).await;
        let closed = events::<PromptClosed>(&ok.logs);
        assert_eq!((closed[0].prompt, closed[0].owner, closed[0].request), (key, requester.pubkey(), Some(request)));
        for gone in [request, pda::output(&request), key] {
            assert!(!p.env.exists(&gone).await, "{gone} closed");
        }
        assert_eq!(p.env.lamports(&requester.pubkey()).await, before + request_rent + output_rent + prompt_rent);
        assert_eq!(p.env.lamports(&requester.pubkey()).await, start - DEFAULT_FEE, "nothing lost but the fee");
    }
}

#[tokio::test]
async fn a_wrong_hash_is_refused_with_its_code() {
    let mut p = protocol(4_096).await;
    let requester = p.requester(10 * SOL).await;
    let bytes = long_text(2_000);
    // The bytes do not hash to the Prompt's declared hash.
    let declared = pda::sha256(&[b"another prompt"]);
    let key = p.write_prompt_upto(&requester, 1, &bytes, declared, bytes.len()).await;
    let args = prompt_account_args(1, declared, DEFAULT_MAX_TOKENS, DEFAULT_FEE);
    let before = p.env.lamports(&requester.pubkey()).await;
    let submit = p.ix_submit_with_prompt(&requester.pubkey(), &p.models[0].key, args, &key);
    p.env.expect_err(&[submit], &[&requester], VerityError::PromptHashMismatch).await;
    assert_eq!(p.env.lamports(&requester.pubkey()).await, before, "a refused submit moves no lamports");
    assert!(!p.env.exists(&pda::request(&requester.pubkey(), 1)).await);

    // The arguments must name the Prompt's (correct) hash.
    let good = p.write_prompt(&requester, 2, &bytes).await;
    let hash = pda::sha256(&[&bytes]);
    for claimed in [None, Some([9u8; 32])] {
        let mut args = prompt_account_args(2, hash, DEFAULT_MAX_TOKENS, DEFAULT_FEE);
        args.prompt_hash = claimed;
        let submit = p.ix_submit_with_prompt(&requester.pubkey(), &p.models[0].key, args, &good);
        p.env.expect_err(&[submit], &[&requester], VerityError::PromptHashMismatch).await;
    }
    // Neither an inline prompt nor a URI besides the Prompt account.
    let mut inline = prompt_account_args(2, hash, DEFAULT_MAX_TOKENS, DEFAULT_FEE);
    inline.prompt = b"hi".to_vec();
    let mut uri = prompt_account_args(2, hash, DEFAULT_MAX_TOKENS, DEFAULT_FEE);
    uri.prompt_uri = "ipfs://x".into();
    for args in [inline, uri] {
        let submit = p.ix_submit_with_prompt(&requester.pubkey(), &p.models[0].key, args, &good);
        p.env.expect_err(&[submit], &[&requester], VerityError::PromptAmbiguous).await;
    }
    let args = prompt_account_args(2, hash, DEFAULT_MAX_TOKENS, DEFAULT_FEE);
    let submit = p.ix_submit_with_prompt(&requester.pubkey(), &p.models[0].key, args, &good);
    p.env.ok(&[submit], &[&requester]).await;
}

#[tokio::test]
async fn a_missing_chunk_is_refused() {
    let mut p = protocol(4_096).await;
    let requester = p.requester(10 * SOL).await;
    let bytes = long_text(3_000);
    let hash = pda::sha256(&[&bytes]);
    let key = p.write_prompt_upto(&requester, 1, &bytes, hash, 2_400).await;
    let args = prompt_account_args(1, hash, DEFAULT_MAX_TOKENS, DEFAULT_FEE);
    let submit = p.ix_submit_with_prompt(&requester.pubkey(), &p.models[0].key, args.clone(), &key);
    p.env.expect_err(&[submit], &[&requester], VerityError::PromptIncomplete).await;
    let last = p.ix_write_prompt(&requester.pubkey(), &key, 2_400, &bytes[2_400..]);
    p.env.ok(&[last], &[&requester]).await;
    let submit = p.ix_submit_with_prompt(&requester.pubkey(), &p.models[0].key, args, &key);
    p.env.ok(&[submit], &[&requester]).await;
}

#[tokio::test]
async fn writes_are_sequential_and_within_the_length() {
    let mut p = protocol(4_096).await;
    let owner = p.requester(10 * SOL).await;
    let bytes = long_text(1_500);
    let key = p.write_prompt_upto(&owner, 1, &bytes, pda::sha256(&[&bytes]), 800).await;
    let o = owner.pubkey();
    let cases = [
        (900u32, &bytes[900..1_000], VerityError::PromptChunkOutOfOrder), // gap
        (700, &bytes[700..1_000], VerityError::PromptChunkOutOfOrder),    // overlap
        (0, &bytes[..10], VerityError::PromptChunkOutOfOrder),            // rewrite from the start
        (800, &[][..], VerityError::PromptChunkOutOfRange),               // empty chunk
    ];
    for (offset, data, err) in cases {
        let w = p.ix_write_prompt(&o, &key, offset, data);
        p.env.expect_err(&[w], &[&owner], err).await;
    }
    let past = [&bytes[800..], &b"!"[..]].concat();
    let w = p.ix_write_prompt(&o, &key, 800, &past);
    p.env.expect_err(&[w], &[&owner], VerityError::PromptChunkOutOfRange).await;
    let pr = p.prompt_account(&key).await;
    assert_eq!((pr.written, pr.data.as_slice()), (800, &bytes[..800]), "refused writes change nothing");
    let w = p.ix_write_prompt(&o, &key, 800, &bytes[800..]);
    p.env.ok(&[w], &[&owner]).await;
    let w = p.ix_write_prompt(&o, &key, 1_500, b"x");
    p.env.expect_err(&[w], &[&owner], VerityError::PromptChunkOutOfRange).await;
}

#[tokio::test]
async fn strangers_cannot_write_close_or_submit_anothers_prompt() {
    let mut p = protocol(4_096).await;
    let owner = p.requester(10 * SOL).await;
    let stranger = p.requester(10 * SOL).await;
    let bytes = long_text(1_200);
    let hash = pda::sha256(&[&bytes]);
    let key = p.write_prompt_upto(&owner, 1, &bytes, hash, 800).await;
    let w = p.ix_write_prompt(&stranger.pubkey(), &key, 800, &bytes[800..]);
    p.env.expect_err(&[w], &[&stranger], VerityError::Unauthorized).await;
    let c = p.ix_close_prompt(&stranger.pubkey(), &key);
    p.env.expect_err(&[c], &[&stranger], VerityError::Unauthorized).await;
    let w = p.ix_write_prompt(&owner.pubkey(), &key, 800, &bytes[800..]);
    p.env.ok(&[w], &[&owner]).await;
    // A complete prompt of someone else cannot carry a stranger's request.
    let args = prompt_account_args(1, hash, DEFAULT_MAX_TOKENS, DEFAULT_FEE);
    let submit = p.ix_submit_with_prompt(&stranger.pubkey(), &p.models[0].key, args, &key);
    p.env.expect_err(&[submit], &[&stranger], VerityError::Unauthorized).await;
    assert_eq!(p.prompt_account(&key).await.request, None);
}

#[tokio::test]
async fn an_attached_prompt_is_read_only_and_serves_one_request() {
    let mut p = protocol(4_096).await;
    let requester = p.requester(10 * SOL).await;
    let bytes = long_text(2_500);
    let (request, key) = p.submit_long(&requester, 1, &bytes, DEFAULT_MAX_TOKENS, DEFAULT_FEE).await;
    let o = requester.pubkey();
    let w = p.ix_write_prompt(&o, &key, 2_500, b"more");
    p.env.expect_err(&[w], &[&requester], VerityError::PromptAttached).await;
    let c = p.ix_close_prompt(&o, &key);
    p.env.expect_err(&[c], &[&requester], VerityError::PromptAttached).await;
    // A second request (another nonce) cannot use it.
    let args = prompt_account_args(2, pda::sha256(&[&bytes]), DEFAULT_MAX_TOKENS, DEFAULT_FEE);
    let second = p.ix_submit_with_prompt(&o, &p.models[0].key, args, &key);
    p.env.expect_err(&[second], &[&requester], VerityError::PromptAttached).await;
    // Nor can the request be closed (with it) before it is settled.
    let close = p.ix_close_with_prompt(&o, &request, Some(key));
    p.env.expect_err(&[close], &[&requester], VerityError::RequestNotClosable).await;
    let pr = p.prompt_account(&key).await;
    assert_eq!((pr.request, pr.data.as_slice()), (Some(request), &bytes[..]));
}

#[tokio::test]
async fn oversize_prompts_are_refused() {
    let mut p = protocol(4_096).await;
    let owner = p.requester(10 * SOL).await;
    for (nonce, len) in [(1u64, MAX_LONG_PROMPT_BYTES + 1), (2, 0), (3, u32::MAX)] {
        let create = p.ix_create_prompt(&owner.pubkey(), nonce, len, [0; 32]);
        p.env.expect_err(&[create], &[&owner], VerityError::PromptLengthInvalid).await;
        assert!(!p.env.exists(&pda::prompt(&owner.pubkey(), nonce)).await);
    }
    // A Prompt longer than the model's max_input_bytes (4096).
    let bytes = long_text(4_097);
    let key = p.write_prompt(&owner, 4, &bytes).await;
    let args = prompt_account_args(4, pda::sha256(&[&bytes]), DEFAULT_MAX_TOKENS, DEFAULT_FEE);
    let submit = p.ix_submit_with_prompt(&owner.pubkey(), &p.models[0].key, args, &key);
    p.env.expect_err(&[submit], &[&owner], VerityError::PromptTooLarge).await;
    // An inline prompt stays capped at MAX_PROMPT_BYTES even when the model accepts more.
    let inline = "x".repeat(MAX_PROMPT_BYTES as usize + 1);
    let submit = p.ix_submit(&owner.pubkey(), &p.models[0].key, submit_args(5, &inline, 10, SOL));
    p.env.expect_err(&[submit], &[&owner], VerityError::PromptTooLarge).await;
}

#[tokio::test]
async fn close_request_needs_exactly_the_request_prompt() {
    let mut p = protocol(4_096).await;
    let requester = p.requester(10 * SOL).await;
    let start = p.env.lamports(&requester.pubkey()).await;
    let bytes = long_text(1_000);
    let (request, key) = p.submit_long(&requester, 1, &bytes, DEFAULT_MAX_TOKENS, DEFAULT_FEE).await;
    let other = p.write_prompt(&requester, 7, b"an unattached prompt of the same requester").await;
    // Nobody assigns: the request expires with a full refund.
    let submit_slot = p.request(&request).await.submit_slot;
    p.env.warp_to(submit_slot + p.params.assign_window + 1).await;
    let expire = p.ix_expire(&request, &requester.pubkey());
    p.env.ok(&[expire], &[]).await;
    assert_eq!(p.request(&request).await.status, RequestStatus::Expired);

    let o = requester.pubkey();
    for wrong in [None, Some(other)] {
        let close = p.ix_close_with_prompt(&o, &request, wrong);
        p.env.expect_err(&[close], &[&requester], VerityError::WrongPromptAccount).await;
    }
    assert!(p.env.exists(&request).await && p.env.exists(&key).await);
    let close = p.ix_close_with_prompt(&o, &request, Some(key));
    p.env.ok(&[close], &[&requester]).await;
    assert!(!p.env.exists(&request).await && !p.env.exists(&key).await);

    // A request without a Prompt account closes without one, and refuses one.
    let plain = p.submit(&requester, 0, submit_args(2, "short", DEFAULT_MAX_TOKENS, DEFAULT_FEE)).await;
    settle(&mut p, &plain).await;
    let close = p.ix_close_with_prompt(&o, &plain, Some(other));
    p.env.expect_err(&[close], &[&requester], VerityError::WrongPromptAccount).await;
    let close = p.ix_close(&o, &plain);
    p.env.ok(&[close], &[&requester]).await;

    // The unattached prompt closes on its own; every rent is back: the requester paid one fee (request 2's).
    let close = p.ix_close_prompt(&o, &other);
    p.env.ok(&[close], &[&requester]).await;
    assert!(!p.env.exists(&other).await);
    assert_eq!(p.env.lamports(&requester.pubkey()).await, start - DEFAULT_FEE, "expired: fee refunded; rents back");
}

#[tokio::test]
async fn an_unattached_prompt_can_be_closed_and_recreated() {
    let mut p = protocol(4_096).await;
    let owner: Keypair = p.requester(10 * SOL).await;
    let start = p.env.lamports(&owner.pubkey()).await;
    let bytes = long_text(900);
    let key = p.write_prompt_upto(&owner, 1, &bytes, pda::sha256(&[b"typo"]), bytes.len()).await;
    let close = p.ix_close_prompt(&owner.pubkey(), &key);
    let ok = p.env.ok(&[close], &[&owner]).await;
    assert_eq!(events::<PromptClosed>(&ok.logs)[0].request, None);
    assert_eq!(p.env.lamports(&owner.pubkey()).await, start, "rent back");
    // Same nonce, fixed content: usable.
    let (request, again) = p.submit_long(&owner, 1, &bytes, DEFAULT_MAX_TOKENS, DEFAULT_FEE).await;
    assert_eq!(again, key);
    assert_eq!(p.request(&request).await.prompt_account, Some(key));
}
