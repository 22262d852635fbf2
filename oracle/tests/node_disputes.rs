//! Second rounds driven by real nodes over JSON-RPC (10 operators, k = 3, so the 2k+1 = 7 second committee is
//! every operator outside the first): a 1-1-1 split escalates and the nodes open, draw, commit, reveal and
//! resolve the escalation round, whose majority finalizes the request and writes the honest output; a wallet's
//! challenge of an honest result is upheld by the fresh committee, which shares the bond; the nodes claim their
//! second-round rewards and close the Dispute account (rent back to its opener).
#![cfg(feature = "localnet")]
mod node_support;

use {
    node_support::*,
    solana_signer::Signer,
    std::{
        sync::{
            atomic::{AtomicUsize, Ordering},
            Arc,
        },
        time::Duration,
    },
    verity::state::{Dispute, DisputeKind, DisputePhase, MemberState, Outcome, Request, RequestStatus, Verdict},
    verity_oracle::{
        chain::{ix, pda, wallet, ChainClient},
        node::engine::{Infer, InferFuture},
    },
};

/// Marker of prompts whose first three answers (the first committee's) are made mutually different.
const SPLIT: &str = "[split]";

/// Test hook shared by every node: the first three inferences of a `[split]` prompt get three different
/// tamperings (a 1-1-1 split of the first committee); every later one (the second round) is honest.
struct SplitFirst<E> {
    inner: E,
    seen: Arc<AtomicUsize>,
}

impl<E: Infer> Infer for SplitFirst<E> {
    fn profiles(&self) -> Vec<[u8; 32]> {
        self.inner.profiles()
    }
    fn infer(&self, profile: [u8; 32], req: verity_oracle::inference::Request) -> InferFuture {
        let split = String::from_utf8_lossy(&req.prompt).contains(SPLIT);
        let n = if split { self.seen.fetch_add(1, Ordering::SeqCst) } else { usize::MAX };
        let fut = self.inner.infer(profile, req);
        Box::pin(async move {
            let mut out = fut.await?;
            if n < 3 {
                out.text.push_str(&format!(" [variant {n}]"));
            }
            Ok(out)
        })
    }
}

async fn dispute_of(chain: &ChainClient, key: &anchor_lang::prelude::Pubkey) -> Option<Dispute> {
    chain.account::<Dispute>(&pda::dispute(key), "Dispute").await.ok()
}

/// Polls until `f` holds for the request and its Dispute account (which may be closed already: None).
async fn wait_for(
    chain: &ChainClient,
    key: &anchor_lang::prelude::Pubkey,
    what: &str,
    f: impl Fn(&Request, Option<&Dispute>) -> bool,
) -> (Request, Option<Dispute>) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(420);
    loop {
        let r: Request = chain.account(key, "Request").await.unwrap();
        let d = dispute_of(chain, key).await;
        if f(&r, d.as_ref()) {
            return (r, d);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {}\n{d:?}",
            wallet::describe(key, &r, None)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[test]
fn nodes_run_escalation_and_challenge_rounds() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let honest = engine();
        let mut c = cluster_with("node-disputes", 10, 30, honest.profiles()[0], |o| {
            o.boot.config.dispute_window = 60;
        })
        .await;
        let seen = Arc::new(AtomicUsize::new(0));
        let hooked: Arc<dyn Infer> = Arc::new(SplitFirst { inner: honest.clone(), seen: seen.clone() });
        c.start_all(hooked).await.unwrap();
        let chain = c.client().unwrap();
        let w = wallet(&c);

        // 1. Escalation: the first committee splits 1-1-1, the nodes run the 2k+1 round, its majority decides.
        let prompt = format!("{SPLIT} What is 2+2?");
        let key = submit(&chain, &c, &prompt).await;
        let (r, _) =
            wait_for(&chain, &key, "escalation", |r, _| r.status == RequestStatus::Escalated || r.round > 0).await;
        eprintln!("escalated:\n{}", wallet::describe(&key, &r, None));
        let (r, d) = wait_for(&chain, &key, "escalation decided", |r, d| {
            r.status == RequestStatus::Finalized && d.is_some_and(|d| d.phase == DisputePhase::Resolved)
        })
        .await;
        let d = d.unwrap();
        eprintln!("decided:\n{}\n{d:?}", wallet::describe(&key, &r, None));
        assert_eq!(d.kind, DisputeKind::Escalation);
        assert_eq!(d.verdict, Verdict::Decided);
        assert_eq!(d.committee.members.len(), 7, "2k+1 second committee");
        let first: Vec<_> = r.committee.members.iter().map(|m| m.operator).collect();
        assert!(
            d.committee.members.iter().all(|m| !first.contains(&m.operator)),
            "second committee excludes the first"
        );
        assert!(r.committee.members.iter().all(|m| m.outcome == Outcome::Inconclusive), "{:?}", r.committee.members);
        let honest_text = expected_text(&honest, &prompt).await;
        assert_eq!(r.winning_hash, verity::logic::output_hash(&r.profile_hash, honest_text.as_bytes()));
        let agreeing =
            d.committee.members.iter().filter(|m| m.state == MemberState::Revealed && m.output_hash == d.winning_hash);
        assert_eq!(agreeing.count(), 7);
        // A member of the second round's majority writes the output; the nodes claim and close the round.
        let text = wallet::wait_output(&chain, &key, Duration::from_secs(120)).await.unwrap();
        assert_eq!(text, honest_text);
        let (_, d) = wait_for(&chain, &key, "escalation claimed and closed", |_, d| d.is_none()).await;
        assert!(d.is_none());
        assert_eq!(seen.load(Ordering::SeqCst), 10, "3 first-round and 7 second-round inferences");

        // 2. Challenge of an honest result: a wallet posts the bond; the fresh committee upholds and shares it.
        let prompt = "Name a primary color.";
        let key = submit(&chain, &c, prompt).await;
        let r = wallet::wait_final(&chain, &key, Duration::from_secs(300)).await.unwrap();
        assert_eq!(r.status, RequestStatus::Finalized, "{}", wallet::describe(&key, &r, None));
        let bond = c.net.deployment.config.dispute_bond;
        chain
            .send("open_dispute", &[ix::open_dispute(&w.pubkey(), &key)], &w)
            .await
            .expect("challenge opened in the window");
        let (r, d) = wait_for(&chain, &key, "challenge resolved", |r, d| {
            r.status != RequestStatus::Disputed && d.is_some_and(|d| d.phase == DisputePhase::Resolved)
        })
        .await;
        let d = d.unwrap();
        eprintln!("challenge:\n{}\n{d:?}", wallet::describe(&key, &r, None));
        assert_eq!(d.kind, DisputeKind::Challenge);
        assert_eq!(d.verdict, Verdict::Upheld);
        assert_eq!(d.opener, w.pubkey());
        assert_eq!(r.status, RequestStatus::Finalized);
        assert!(r.committee.members.iter().all(|m| m.outcome == Outcome::Agreed && m.slashed == 0));
        // The bond is shared by the 7 upholding members (the division's remainder goes to the treasury).
        assert!(
            d.committee.members.iter().all(|m| m.outcome == Outcome::Agreed && m.reward == bond / 7),
            "{:?}",
            d.committee.members
        );
        assert_eq!(d.rewards_total, bond / 7 * 7);
        // The nodes claim the bond shares; the opener's Dispute account can then be closed (anyone may crank).
        let (_, d) = wait_for(&chain, &key, "bond shares claimed", |_, d| {
            d.is_none_or(|d| d.rewards_claimed == d.rewards_total)
        })
        .await;
        if d.is_some() {
            chain.send("close_dispute", &[ix::close_dispute(&key, &w.pubkey())], &w).await.expect("close");
        }
        assert!(dispute_of(&chain, &key).await.is_none());
        // First-round rewards were locked during the challenge and are claimed after it.
        wait_for(&chain, &key, "first-round rewards claimed", |r, _| r.committee.members.iter().all(|m| m.claimed))
            .await;
        for n in &c.nodes {
            assert_eq!(n.metrics.counter("tx_failed"), 0, "{}", n.metrics.render());
        }
    });
}
