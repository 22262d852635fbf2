//! Faults over real JSON-RPC with real inference, run in order on one network (3 operators, k = 3, 40-slot
//! windows): a dishonest node is slashed as Minority, a silent node as NoCommit, while each request finalizes; a
//! node killed after its commit and restarted from its store reveals in time; one whose store was deleted cannot
//! reveal and is slashed as NoReveal, the request still finalizing with the other two.
#![cfg(feature = "localnet")]
mod node_support;

use {
    node_support::*,
    solana_signer::Signer,
    std::{sync::Arc, time::Duration},
    verity::state::{MemberState, Outcome, Request, RequestStatus},
    verity_oracle::{
        chain::{wallet, ChainClient},
        node::engine::{Corrupt, Infer},
    },
};

async fn finalized(chain: &ChainClient, key: &anchor_lang::prelude::Pubkey) -> Request {
    let r = wallet::wait_final(chain, key, Duration::from_secs(300)).await.unwrap();
    eprintln!("{}", wallet::describe(key, &r, None));
    assert_eq!(r.status, RequestStatus::Finalized);
    r
}

fn outcome_of(r: &Request, who: &anchor_lang::prelude::Pubkey) -> (Outcome, u64) {
    let m = r.committee.members.iter().find(|m| m.operator == *who).expect("member");
    (m.outcome, m.slashed)
}

/// Waits until `who` has committed to `key`.
async fn committed(chain: &ChainClient, key: &anchor_lang::prelude::Pubkey, who: &anchor_lang::prelude::Pubkey) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    loop {
        let r: Request = chain.account(key, "Request").await.unwrap();
        if r.committee.members.iter().any(|m| m.operator == *who && m.state != MemberState::Assigned) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "no commit: {}", wallet::describe(key, &r, None));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[test]
fn dishonest_silent_crashed_and_amnesiac_nodes() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let engine = engine();
        let mut c = cluster("node-faults", 3, 40, engine.profiles()[0]).await;
        let chain = c.client().unwrap();
        let key = |c: &verity_oracle::node::cluster::Cluster, i: usize| c.nodes[i].keypair.pubkey();
        let (k0, k1, k2) = (key(&c, 0), key(&c, 1), key(&c, 2));

        // 1. Dishonest node 0 (corrupted output): Minority, slashed; 1 and 2 agree.
        let liar: Arc<dyn Infer> = Arc::new(Corrupt(engine.clone()));
        c.start(0, liar).await.unwrap();
        c.start(1, engine.clone()).await.unwrap();
        c.start(2, engine.clone()).await.unwrap();
        let r1 = submit(&chain, &c, "What is the capital of France?").await;
        let r = finalized(&chain, &r1).await;
        let (o, slashed) = outcome_of(&r, &k0);
        assert_eq!(o, Outcome::Minority);
        assert!(slashed > 0);
        assert_eq!(outcome_of(&r, &k1).0, Outcome::Agreed);
        assert_eq!(outcome_of(&r, &k2).0, Outcome::Agreed);
        assert_eq!(r.receipt.agreement_count, 2);
        let text = wallet::wait_output(&chain, &r1, Duration::from_secs(60)).await.unwrap();
        assert_eq!(text, expected_text(&engine, "What is the capital of France?").await);

        // 2. Silent node 0 (not running): NoCommit, slashed once the commit window closes; 1 and 2 finalize.
        c.kill(0).await;
        let r2 = submit(&chain, &c, "Name a primary color.").await;
        let r = finalized(&chain, &r2).await;
        let (o, slashed) = outcome_of(&r, &k0);
        assert_eq!(o, Outcome::NoCommit);
        assert!(slashed > 0);
        assert_eq!(r.receipt.agreement_count, 2);

        // 3. Crash recovery: node 0 (honest again) is killed right after its commit and restarted from its store.
        //    Node 2 is held back so the reveal phase cannot open before the kill.
        c.kill(2).await;
        c.start(0, engine.clone()).await.unwrap();
        let r3 = submit(&chain, &c, "What is 2+2?").await;
        committed(&chain, &r3, &k0).await;
        c.kill(0).await;
        c.start(2, engine.clone()).await.unwrap();
        committed(&chain, &r3, &k2).await;
        c.start(0, engine.clone()).await.unwrap();
        let r = finalized(&chain, &r3).await;
        assert_eq!(outcome_of(&r, &k0), (Outcome::Agreed, 0), "restarted node revealed from its store");
        assert_eq!(r.receipt.agreement_count, 3);

        // 4. Amnesia: node 0 is killed after its commit and its store deleted: it cannot reveal (NoReveal, slashed);
        //    the request finalizes with 1 and 2 after the reveal deadline.
        c.kill(2).await;
        let r4 = submit(&chain, &c, "Say hello.").await;
        committed(&chain, &r4, &k0).await;
        c.kill(0).await;
        let store_dir = c.nodes[0].store_path.parent().unwrap().to_path_buf();
        std::fs::remove_dir_all(&store_dir).unwrap();
        c.start(0, engine.clone()).await.unwrap();
        c.start(2, engine.clone()).await.unwrap();
        let r = finalized(&chain, &r4).await;
        let (o, slashed) = outcome_of(&r, &k0);
        assert_eq!(o, Outcome::NoReveal);
        assert!(slashed > 0);
        assert_eq!(outcome_of(&r, &k1).0, Outcome::Agreed);
        assert_eq!(outcome_of(&r, &k2).0, Outcome::Agreed);
        assert!(c.nodes[0].metrics.counter("slashes") >= 1, "{}", c.nodes[0].metrics.render());
    });
}
