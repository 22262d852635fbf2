//! Expiry: a request that gets no committee within the assign window is refunded in full, and the requester
//! gets every lamport back after closing it.
use {
    verity::{RequestStatus, VerityError},
    verity_tests::{default_model_params, default_params, pda, Protocol, Signer, DEFAULT_FEE, SOL},
};

#[tokio::test]
async fn unassignable_request_expires_with_a_full_refund() {
    let mut p = Protocol::new(default_params()).await;
    p.add_model(default_model_params()).await;
    p.add_operator(100_000).await; // 1 operator < k = 3
    let req = p.requester(10 * SOL).await;
    let start = p.env.lamports(&req.pubkey()).await;
    let request = p.submit(&req, 0, verity_tests::submit_args(1, "hello?", 10, DEFAULT_FEE)).await;
    p.make_seed_available().await;
    let assign = p.ix_assign(&request);
    p.env.expect_err(&[assign], &[], VerityError::NotEnoughOperators).await;

    let r = p.request(&request).await;
    let expire = p.ix_expire(&request, &req.pubkey());
    p.env.warp_to(r.submit_slot + p.params.assign_window).await;
    p.env.expect_err(std::slice::from_ref(&expire), &[], VerityError::ExpireTooEarly).await;
    p.env.warp_to(r.submit_slot + p.params.assign_window + 1).await;
    let mut wrong = expire.clone();
    wrong.accounts[2].pubkey = p.treasury;
    p.env.expect_err(&[wrong], &[], VerityError::AccountMismatch).await;

    let before = p.env.lamports(&req.pubkey()).await;
    p.env.ok(std::slice::from_ref(&expire), &[]).await; // anyone may crank it
    assert_eq!(p.env.lamports(&req.pubkey()).await, before + DEFAULT_FEE);
    let r = p.request(&request).await;
    assert_eq!(r.status, RequestStatus::Expired);
    assert_eq!(
        p.env.lamports(&request).await,
        p.env.rent_exempt(verity::Request::space(6, 0, 3)).await,
        "only rent left"
    );
    p.env.expect_err(&[expire], &[], VerityError::RequestNotPending).await;

    let close = p.ix_close(&req.pubkey(), &request);
    p.env.ok(&[close], &[&req]).await;
    assert!(!p.env.exists(&request).await && !p.env.exists(&pda::output(&request)).await);
    assert_eq!(p.env.lamports(&req.pubkey()).await, start, "the requester got every lamport back");
}

#[tokio::test]
async fn assigned_request_cannot_expire() {
    let mut p = Protocol::standard().await;
    let (req, request, _c) = p.assigned().await;
    let r = p.request(&request).await;
    p.env.warp_to(r.submit_slot + p.params.assign_window + 1).await;
    let expire = p.ix_expire(&request, &req.pubkey());
    p.env.expect_err(&[expire], &[], VerityError::RequestNotPending).await;
}
