//! Conservation property: seeded random sequences of instructions — many operators and requests, honest,
//! lying, silent, withholding and copying members, bonded disputes and escalations with their 2k+1 rounds, staking churn (stake, unbond, withdraw, leave, rejoin),
//! out-of-turn and malformed actions, and time jumps — in long-lived banks. After every step lamports and
//! stake tokens are conserved to the unit (and the vault, registry and escrows match the books); after every
//! sequence all deadlines are passed and permissionless cranks must leave no escrow behind. Two independent
//! worlds (seeds) run in parallel, 500 sequences each by default. `VERITY_PROP_SEED` / `VERITY_PROP_SEQS`
//! override a world's seed offset and sequence count.
use {std::time::Instant, verity_tests::prop_world::World};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs one world for `VERITY_PROP_SEQS` (default 500) sequences from seed `VERITY_PROP_SEED + offset`.
async fn run_world(offset: u64) {
    let seed = env_u64("VERITY_PROP_SEED", 0x5EED_2026) + offset;
    let sequences = env_u64("VERITY_PROP_SEQS", 500);
    let start = Instant::now();
    let mut w = World::new(seed).await;
    for i in 0..sequences {
        w.seq = i;
        w.sequence().await;
    }
    let txs: u64 = w.stats.values().sum();
    let mut report = format!(
        "world seed {seed}: {sequences} sequences, {txs} transactions, {} warps, {:.1} s (transactions {:.1} s, \
         warps {:.1} s, checks {:.1} s); all conserved\n",
        w.warps,
        start.elapsed().as_secs_f64(),
        w.send_time.as_secs_f64(),
        w.warp_time.as_secs_f64(),
        w.check_time.as_secs_f64()
    );
    report.push_str(&format!("  seed waits {}\n", w.seed_waits));
    for (k, v) in &w.stats {
        report.push_str(&format!("  {k:>22}: {v}\n"));
    }
    println!("{report}");
    // The mix really exercised every path (a property over paths never taken proves nothing); checked for
    // full-size runs only, so a short reproduction run is not refused for it.
    if sequences < 200 {
        return;
    }
    for path in [
        "submit ok",
        "assign ok",
        "commit ok",
        "reveal ok",
        "finalize ok",
        "claim ok",
        "write_output ok",
        "expire ok",
        "close ok",
        "stake ok",
        "unstake ok",
        "withdraw ok",
        "served ok",
        "deregister ok",
        "rejoin ok",
        "submit err 6016",
        "reveal err 6040",
        "assign err 6031",
        "claim err 6048",
        // Second rounds: challenges, escalations, their commit-reveal, every verdict, claims and closes.
        "dispute ok",
        "escalate ok",
        "assign_dispute ok",
        "commit_dispute ok",
        "reveal_dispute ok",
        "resolve_dispute ok",
        "claim_dispute ok",
        "close_dispute ok",
        "dispute err 6064",
        "dispute err 6065",
        "assign_dispute err 6031",
        "reveal_dispute err 6040",
        "verdict Overturned",
        "verdict Upheld",
        "verdict Decided",
        "verdict NoMajority",
        "verdict NoCommittee",
    ] {
        assert!(w.stats.get(path).copied().unwrap_or(0) > 0, "seed {seed}: path never exercised: {path}");
    }
}

#[tokio::test]
async fn conservation_world_a() {
    run_world(0).await;
}

#[tokio::test]
async fn conservation_world_b() {
    run_world(1).await;
}

/// The checker is not vacuous: a single stray lamport, token or escrow unit anywhere it watches is reported.
#[tokio::test]
async fn the_ledger_notices_one_stray_unit() {
    use {
        solana_account::AccountSharedData,
        verity_tests::{pda, Signer},
    };
    let mut w = World::new(42).await;
    for i in 0..5 {
        w.seq = i;
        w.sequence().await;
    }
    // One lamport appears in a requester's wallet.
    let who = w.requesters[0].pubkey();
    let mut acct = w.p.env.get_account(&who).await.unwrap();
    acct.lamports += 1;
    w.p.env.ctx.set_account(&who, &AccountSharedData::from(acct.clone()));
    w.ledger.refresh(&mut w.p.env, [who]).await;
    let e = w.ledger.check(&mut w.p.env).await.unwrap_err();
    assert!(e.contains("lamports not conserved"), "{e}");
    acct.lamports -= 1;
    w.p.env.ctx.set_account(&who, &AccountSharedData::from(acct));
    w.ledger.check_full(&mut w.p.env).await.expect_err("the change was not made by a transaction listing it");
    w.ledger.check(&mut w.p.env).await.unwrap();
    // One stake token is minted into an operator's account (a real SPL Token transaction).
    let (mint, tokens) = (w.p.stake_mint, w.p.operators[0].tokens);
    let mint_authority = w.p.mint_authority.insecure_clone();
    w.p.env.mint_to(&mint, &mint_authority, &tokens, 1).await;
    w.ledger.refresh(&mut w.p.env, [tokens]).await;
    let e = w.ledger.check(&mut w.p.env).await.unwrap_err();
    assert!(e.contains("stake tokens not conserved"), "{e}");
    // An escrow that holds one lamport more than its request owes (the lamport taken from its requester).
    let mut w = World::new(43).await;
    w.submit().await;
    while w.live.is_empty() {
        w.submit().await;
    }
    let (key, q) = (w.live[0].key, w.requesters[w.live[0].requester].pubkey());
    for (k, delta) in [(key, 1i64), (q, -1)] {
        let mut a = w.p.env.get_account(&k).await.unwrap();
        a.lamports = (a.lamports as i64 + delta) as u64;
        w.p.env.ctx.set_account(&k, &AccountSharedData::from(a));
    }
    w.ledger.refresh(&mut w.p.env, [key, q, pda::output(&key)]).await;
    let e = w.ledger.check(&mut w.p.env).await.unwrap_err();
    assert!(e.contains("escrows"), "{e}");
}
