//! Randomized registry test: seeded random sequences of register / stake / request_unstake / withdraw /
//! set_served_models / deregister (and slashing, through finalized rounds nobody answered) across slots, with
//! requests drawn in between. After every draw the committee must equal the spec's draw over the reference model
//! (tests/src/registry_model.rs, fed only with the operators' books), so every drawn operator was eligible there
//! at the request's submit slot at its book weight; a draw the model cannot fill must fail `NotEnoughOperators`.
//! `VERITY_REGISTRY_SEED` / `VERITY_REGISTRY_STEPS` override the seed and the step count.
use {
    verity::{state::ConfigParams, VerityError},
    verity_tests::{
        default_model_params, default_params,
        model_check::{spec_draw, Rng},
        pda,
        registry_model::{Books, RegistryModel},
        submit_args, Keypair, Protocol, Pubkey, Signer, SOL,
    },
};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn params() -> ConfigParams {
    ConfigParams {
        committee_size: 2,
        assign_window: 6,
        commit_window: 4,
        reveal_window: 4,
        dispute_window: 2,
        unbonding_slots: 10,
        min_stake: 1_000,
        ..default_params()
    }
}

struct Op {
    key: Keypair,
    tokens: Pubkey,
    registered: bool,
}

/// Reads operator `o`'s books into the model (after a transaction that may have changed them).
async fn observe(p: &mut Protocol, model: &mut RegistryModel, o: &Pubkey) {
    let now = p.env.slot().await;
    let op = p.env.try_account::<verity::state::Operator>(&pda::operator(o)).await;
    model.observe(*o, op.as_ref().map(Books::of), now);
}

#[tokio::test]
async fn every_drawn_operator_is_eligible_in_the_reference_model() {
    let seed = env_u64("VERITY_REGISTRY_SEED", 0x2E61_5731);
    let steps = env_u64("VERITY_REGISTRY_STEPS", 600);
    let mut rng = Rng(seed);
    let prm = params();
    let mut p = Protocol::new(prm).await;
    p.add_model(default_model_params()).await;
    p.add_model(default_model_params()).await;
    let mut ops = Vec::new();
    for _ in 0..8 {
        let key = p.env.funded_keypair(10 * SOL).await;
        let tokens = p.env.create_token_account(&p.stake_mint, &key.pubkey()).await;
        let mint_authority = p.mint_authority.insecure_clone();
        p.env.mint_to(&p.stake_mint, &mint_authority, &tokens, 10_000_000).await;
        ops.push(Op { key, tokens, registered: false });
    }
    let mut model = RegistryModel::new(prm.assign_window);
    let requester = p.env.funded_keypair(1_000 * SOL).await;
    let (mut nonce, mut draws, mut full, mut refused, mut changes) = (0u64, 0u32, 0u32, 0u32, 0u32);
    let mut assigned: Vec<Pubkey> = Vec::new();
    for step in 0..steps {
        let i = rng.below(ops.len() as u64) as usize;
        let me = ops[i].key.pubkey();
        let ix = if !ops[i].registered {
            p.ix_register_operator(&me, 1 + rng.below(3))
        } else {
            match rng.below(100) {
                0..=29 => p.ix_stake(&me, &ops[i].tokens, 500 + rng.below(50_000)),
                30..=44 => p.ix_request_unstake(&me, 1 + rng.below(60_000)),
                45..=64 => p.ix_withdraw_stake(&me, &ops[i].tokens),
                65..=89 => p.ix_set_served_models(&me, rng.below(4)),
                _ => p.ix_deregister_operator(&me),
            }
        };
        let signer = ops[i].key.insecure_clone();
        match p.env.send(&[ix], &[&signer]).await {
            Ok(_) => changes += 1,
            Err(e) => assert!(
                e.custom_code().is_some_and(|c| (6000..6100).contains(&c)),
                "step {step}: failed outside Verity's errors: {:?}",
                e.err
            ),
        }
        ops[i].registered = p.env.exists(&pda::operator(&me)).await;
        observe(&mut p, &mut model, &me).await;
        p.env.warp_by(rng.below(4)).await;
        // Finalize unanswered rounds past their deadlines: every member is slashed (books change).
        let now = p.env.slot().await;
        let mut k = 0;
        while k < assigned.len() {
            let r = p.request(&assigned[k]).await;
            if now > r.committee.commit_deadline + prm.reveal_window {
                p.env.ok(&[p.ix_finalize(&assigned[k], &r)], &[]).await;
                for m in &r.committee.members {
                    observe(&mut p, &mut model, &m.operator).await;
                }
                assigned.swap_remove(k);
            } else {
                k += 1;
            }
        }
        if !rng.chance(25) {
            continue;
        }
        // A request for model 0 or 1, drawn at once: committee == spec draw over the model at submit_slot.
        nonce += 1;
        let model_ix = rng.below(2) as usize;
        let request = p.submit(&requester, model_ix, submit_args(nonce, "hi", 20, 1_000_000)).await;
        let submit_slot = p.request(&request).await.submit_slot;
        p.make_seed_available().await;
        let pool = model.pool(model_ix as u8, prm.min_stake, submit_slot);
        match p.env.send(&[p.ix_assign(&request)], &[]).await {
            Ok(_) => {
                let r = p.request(&request).await;
                let drawn: Vec<Pubkey> = r.committee.members.iter().map(|m| m.operator).collect();
                let want = spec_draw(&pool, usize::from(prm.committee_size), &r.committee.seed);
                assert_eq!(
                    Some(drawn),
                    want,
                    "step {step} (seed {seed}): committee differs from the reference draw over {pool:?}"
                );
                draws += 1;
                assigned.push(request);
            }
            Err(e) => {
                assert_eq!(e.custom_code(), Some(VerityError::NotEnoughOperators.into()), "step {step}: {:?}", e.err);
                assert!(
                    pool.len() < usize::from(prm.committee_size),
                    "step {step}: the reference could draw from {pool:?}"
                );
                refused += 1;
            }
        }
        full += (pool.len() >= 4) as u32;
    }
    println!("seed {seed}: {steps} steps, {changes} book changes, {draws} draws checked, {refused} refused, {full} with ≥ 4 eligible");
    assert!(draws >= 20 && refused >= 1, "the mix exercised too few draws: {draws} drawn, {refused} refused");
}
