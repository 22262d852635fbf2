//! Conservation checks for property tests, read from the bank in one snapshot: lamports of every account that
//! only program logic moves sum to a constant; stake tokens sum to the minted supply; the vault equals the
//! operators' books; the registry mirrors the books; and every Request holds exactly its rent plus the part of
//! its fee not yet paid out (so, once settled, no escrow is left behind). With `params` set, the stake-at-risk
//! invariant too (`stake_at_risk`), against a reference registry model fed with the books after every transaction.
use {
    crate::{env::Env, pda},
    anchor_lang::{prelude::Pubkey, AccountDeserialize},
    anchor_spl::token::spl_token,
    solana_account::Account,
    std::collections::{BTreeSet, HashMap},
    verity::state::{Dispute, DisputePhase, Operator, OperatorRegistry, Request, RequestStatus},
};

/// What must hold constant, and the accounts to watch.
#[derive(Default)]
pub struct Ledger {
    /// Accounts whose lamports only program logic moves (no fee payer among them).
    pub lamport_keys: BTreeSet<Pubkey>,
    pub lamports_total: u128,
    /// Every token account of the stake mint (vault, treasury stake, operators' accounts).
    pub token_keys: BTreeSet<Pubkey>,
    pub token_total: u128,
    /// Operator authorities whose `Operator` PDA may exist.
    pub operators: Vec<Pubkey>,
    /// Requests to check (their Output PDAs are watched too).
    pub requests: BTreeSet<Pubkey>,
    /// The protocol's parameters: enables the stake-at-risk invariant and the reference registry model.
    pub params: Option<verity::state::ConfigParams>,
    model: crate::registry_model::RegistryModel,
    rent: HashMap<usize, u64>,
    /// Last read state of every watched account (absent: no account).
    cache: HashMap<Pubkey, Account>,
}

fn decode<T: AccountDeserialize>(a: &Account) -> T {
    T::try_deserialize(&mut a.data.as_slice()).expect("decode Verity account")
}

impl Ledger {
    /// Starts watching request `key`, its Output and its Dispute (call before submitting: all hold 0 lamports).
    pub fn watch_request(&mut self, key: Pubkey) {
        self.requests.insert(key);
        self.lamport_keys.insert(key);
        self.lamport_keys.insert(pda::output(&key));
        self.lamport_keys.insert(pda::dispute(&key));
    }

    /// Stops watching a closed (or never created) request. Its address and its Output's must hold 0 lamports:
    /// if they did not, the next `check` sees the watched total drop.
    pub fn forget_request(&mut self, key: &Pubkey) {
        self.requests.remove(key);
        self.lamport_keys.remove(key);
        self.lamport_keys.remove(&pda::output(key));
        self.lamport_keys.remove(&pda::dispute(key));
    }

    async fn rent(&mut self, env: &mut Env, len: usize) -> u64 {
        if let Some(r) = self.rent.get(&len) {
            return *r;
        }
        let r = env.rent_exempt(len).await;
        self.rent.insert(len, r);
        r
    }

    /// Every account the checks read.
    fn all_keys(&self) -> BTreeSet<Pubkey> {
        let mut keys: BTreeSet<Pubkey> = self.lamport_keys.union(&self.token_keys).copied().collect();
        keys.extend(self.operators.iter().map(pda::operator));
        keys.insert(pda::registry());
        keys
    }

    /// Re-reads `keys` (those the checks use) into the cache. A transaction can only change the accounts it
    /// lists, so refreshing those after each transaction keeps the cache equal to the bank; `check_full`
    /// re-reads everything to confirm.
    pub async fn refresh(&mut self, env: &mut Env, keys: impl IntoIterator<Item = Pubkey>) {
        let wanted = self.all_keys();
        let mut now = None;
        for k in keys {
            if wanted.contains(&k) {
                match env.get_account(&k).await {
                    Some(a) => self.cache.insert(k, a),
                    None => self.cache.remove(&k),
                };
                if self.params.is_some() {
                    if let Some(auth) = self.operators.iter().find(|a| pda::operator(a) == k).copied() {
                        let slot = match now {
                            Some(s) => s,
                            None => *now.insert(env.slot().await),
                        };
                        let books = self.cache.get(&k).filter(|a| a.owner == verity::ID && !a.data.is_empty());
                        let books = books.map(|a| crate::registry_model::Books::of(&decode::<Operator>(a)));
                        self.model.observe(auth, books, slot);
                    }
                }
            }
        }
    }

    /// Records the current totals as the constants to hold.
    pub async fn baseline(&mut self, env: &mut Env) {
        let keys = self.all_keys();
        self.refresh(env, keys).await;
        if let Some(p) = self.params {
            // The model starts from the registry as it is (every value in force); it follows the books from here.
            let registry: OperatorRegistry = decode(&self.cache[&pda::registry()]);
            self.model = crate::registry_model::RegistryModel::new(p.assign_window);
            for e in &registry.entries {
                self.model.seed(e.authority, e.effective_slot, (e.stake, e.served_models, e.unbonding));
            }
        }
        let snap = &self.cache;
        self.lamports_total = self.lamport_keys.iter().map(|k| snap.get(k).map_or(0, |a| u128::from(a.lamports))).sum();
        self.token_total = self.token_keys.iter().map(|k| u128::from(token_amount(&snap[k]))).sum();
    }

    /// Re-reads every watched account, checks that the cache had them right, then checks every invariant.
    pub async fn check_full(&mut self, env: &mut Env) -> Result<(), String> {
        let before = std::mem::take(&mut self.cache);
        let keys_now = self.all_keys();
        self.refresh(env, keys_now.clone()).await;
        let all: BTreeSet<&Pubkey> = before.keys().chain(self.cache.keys()).filter(|k| keys_now.contains(k)).collect();
        for k in all {
            if before.get(k) != self.cache.get(k) {
                return Err(format!("account {k} changed outside the transactions that listed it"));
            }
        }
        self.check(env).await
    }

    /// Checks every invariant on the cached state; returns a description of the first violation.
    pub async fn check(&mut self, env: &mut Env) -> Result<(), String> {
        let snap = std::mem::take(&mut self.cache);
        let res = self.check_snapshot(env, &snap).await;
        self.cache = snap;
        res
    }

    async fn check_snapshot(&mut self, env: &mut Env, snap: &HashMap<Pubkey, Account>) -> Result<(), String> {
        let lamports: u128 = self.lamport_keys.iter().map(|k| snap.get(k).map_or(0, |a| u128::from(a.lamports))).sum();
        if lamports != self.lamports_total {
            return Err(format!("lamports not conserved: {lamports} != {}", self.lamports_total));
        }
        let tokens: u128 = self.token_keys.iter().map(|k| u128::from(token_amount(&snap[k]))).sum();
        if tokens != self.token_total {
            return Err(format!("stake tokens not conserved: {tokens} != {}", self.token_total));
        }
        // Vault == Σ stake + unbonding; registry mirrors the books.
        let registry: OperatorRegistry = decode(&snap[&pda::registry()]);
        let mut books = 0u128;
        let mut live_ops = 0;
        for auth in &self.operators {
            let Some(acct) = snap.get(&pda::operator(auth)).filter(|a| a.owner == verity::ID && !a.data.is_empty())
            else {
                if registry.entries.iter().any(|e| e.authority == *auth) {
                    return Err(format!("registry keeps deregistered operator {auth}"));
                }
                continue;
            };
            let op: Operator = decode(acct);
            live_ops += 1;
            books += u128::from(op.stake) + u128::from(op.unbonding);
            let Some(e) = registry.entries.iter().find(|e| e.authority == *auth) else {
                return Err(format!("operator {auth} missing from the registry"));
            };
            if (e.stake, e.unbonding, e.served_models) != (op.stake, op.unbonding > 0, op.served_models) {
                return Err(format!("registry entry {e:?} does not mirror {op:?}"));
            }
        }
        if registry.entries.len() != live_ops {
            return Err(format!("registry has {} entries for {live_ops} operators", registry.entries.len()));
        }
        let vault = u128::from(token_amount(&snap[&pda::stake_vault()]));
        if vault != books {
            return Err(format!("vault {vault} != Σ stake + unbonding {books}"));
        }
        // Escrow per request; open assignments per operator.
        let mut open: HashMap<Pubkey, u32> = HashMap::new();
        for key in self.requests.clone() {
            let Some(acct) = snap.get(&key).filter(|a| a.owner == verity::ID) else { continue };
            let r: Request = decode(acct);
            let rent = self.rent(env, acct.data.len()).await;
            let held = acct.lamports.checked_sub(rent).ok_or(format!("request {key} below rent"))?;
            let owed = match r.status {
                RequestStatus::Pending
                | RequestStatus::Committing
                | RequestStatus::Revealing
                | RequestStatus::Escalated => r.fee,
                RequestStatus::Finalized | RequestStatus::Disputed => {
                    if r.royalty_paid + r.protocol_fee_paid + r.rewards_total + r.dispute_paid != r.fee {
                        return Err(format!("request {key}: fee split {r:?} does not add up"));
                    }
                    r.rewards_total - r.rewards_claimed
                }
                RequestStatus::NoConsensus | RequestStatus::Expired => 0,
            };
            if held != owed {
                return Err(format!("request {key} ({:?}) escrows {held}, owes {owed}", r.status));
            }
            if matches!(r.status, RequestStatus::Committing | RequestStatus::Revealing) {
                for m in &r.committee.members {
                    *open.entry(m.operator).or_default() += 1;
                }
            }
            // The dispute/escalation round: its escrow holds the unresolved bond plus its members' unclaimed
            // rewards; its members (and a challenge's locked first majority) hold open assignments until resolved.
            if let Some(dacct) = snap.get(&pda::dispute(&key)).filter(|a| a.owner == verity::ID && a.lamports > 0) {
                let d: Dispute = decode(dacct);
                let drent = self.rent(env, dacct.data.len()).await;
                let dheld = dacct.lamports.checked_sub(drent).ok_or(format!("dispute of {key} below rent"))?;
                let bond = if d.phase == DisputePhase::Resolved { 0 } else { d.bond };
                let downed = bond + d.rewards_total - d.rewards_claimed;
                if dheld != downed {
                    return Err(format!(
                        "dispute of {key} ({:?}, {:?}) escrows {dheld}, owes {downed}",
                        d.phase, d.verdict
                    ));
                }
                if matches!(d.phase, DisputePhase::Committing | DisputePhase::Revealing) {
                    for m in &d.committee.members {
                        *open.entry(m.operator).or_default() += 1;
                    }
                }
                if d.phase != DisputePhase::Resolved {
                    for (i, m) in r.committee.members.iter().enumerate() {
                        if d.locked_first & (1u16 << i) != 0 {
                            *open.entry(m.operator).or_default() += 1;
                        }
                    }
                }
            } else if r.round > 0 && r.status != RequestStatus::Finalized && r.status != RequestStatus::NoConsensus {
                return Err(format!("request {key} ({:?}) in a second round without its Dispute account", r.status));
            }
            let out_key = pda::output(&key);
            let out = snap.get(&out_key).ok_or(format!("output of {key} missing"))?;
            let out_rent = self.rent(env, out.data.len()).await;
            if out.lamports != out_rent {
                return Err(format!("output {out_key} holds {} != rent {out_rent}", out.lamports));
            }
        }
        for e in &registry.entries {
            let want = open.get(&e.authority).copied().unwrap_or(0);
            if e.open_assignments != want {
                return Err(format!(
                    "{}: open_assignments {} but {want} open committees",
                    e.authority, e.open_assignments
                ));
            }
        }
        if let Some(params) = self.params {
            let now = env.slot().await;
            crate::stake_at_risk::check(snap, &self.requests, &self.model, &params, now)?;
        }
        Ok(())
    }
}

/// Token amount of an SPL token account.
pub fn token_amount(a: &Account) -> u64 {
    use anchor_lang::solana_program::program_pack::Pack;
    assert_eq!(a.owner, spl_token::ID);
    spl_token::state::Account::unpack(&a.data).expect("token account").amount
}
