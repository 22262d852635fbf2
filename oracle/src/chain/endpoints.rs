//! The RPC endpoints of a chain client and their health. Calls go to the first endpoint (in configured order) that
//! is not benched; an endpoint that fails a call is benched for a time that doubles with its consecutive failures
//! (a dead endpoint is soon tried only every half minute), and one success clears it. Every call reports the
//! endpoint it used, so concurrent calls that fail together bench one endpoint, not each other's.
use {
    crate::defaults,
    solana_commitment_config::CommitmentConfig,
    solana_rpc_client::nonblocking::rpc_client::RpcClient,
    std::{
        sync::{Arc, Mutex},
        time::{Duration, Instant},
    },
};

/// One endpoint's consecutive failures and the end of its bench.
#[derive(Clone, Copy, Debug, Default)]
struct Health {
    failures: u32,
    benched_until: Option<Instant>,
}

struct Endpoint {
    url: String,
    client: Arc<RpcClient>,
}

/// The endpoints, most preferred first, with their health.
pub(super) struct Endpoints {
    list: Vec<Endpoint>,
    health: Mutex<Vec<Health>>,
}

/// How long an endpoint with `failures` consecutive failures is benched.
fn bench(failures: u32) -> Duration {
    defaults::RPC_BENCH_BASE.saturating_mul(1u32 << failures.saturating_sub(1).min(16)).min(defaults::RPC_BENCH_MAX)
}

impl Endpoints {
    /// Clients for `urls` (non-empty) at `confirmed` commitment.
    pub(super) fn new(urls: &[String]) -> Endpoints {
        let list: Vec<Endpoint> = urls
            .iter()
            .map(|u| Endpoint {
                url: u.clone(),
                client: Arc::new(RpcClient::new_with_timeout_and_commitment(
                    u.clone(),
                    defaults::RPC_TIMEOUT,
                    CommitmentConfig::confirmed(),
                )),
            })
            .collect();
        let health = Mutex::new(vec![Health::default(); list.len()]);
        Endpoints { list, health }
    }

    /// The endpoint to use now: the first one not benched, else the one whose bench ends first.
    pub(super) fn pick(&self) -> (usize, Arc<RpcClient>) {
        let now = Instant::now();
        let i = match self.health.lock() {
            Ok(h) => h
                .iter()
                .position(|e| e.benched_until.is_none_or(|t| t <= now))
                .unwrap_or_else(|| (0..h.len()).min_by_key(|&i| h[i].benched_until).unwrap_or(0)),
            Err(_) => 0,
        };
        (i, self.list[i].client.clone())
    }

    /// A call on endpoint `i` failed at the transport level: bench it.
    pub(super) fn failed(&self, i: usize, why: &str) {
        let Ok(mut h) = self.health.lock() else { return };
        let Some(e) = h.get_mut(i) else { return };
        e.failures = e.failures.saturating_add(1);
        let span = bench(e.failures);
        e.benched_until = Some(Instant::now() + span);
        if self.list.len() > 1 {
            tracing::warn!(endpoint = %self.list[i].url, failures = e.failures, benched_ms = span.as_millis() as u64, why, "RPC endpoint benched");
        }
    }

    /// A call on endpoint `i` succeeded: it is healthy again.
    pub(super) fn succeeded(&self, i: usize) {
        if let Ok(mut h) = self.health.lock() {
            if let Some(e) = h.get_mut(i) {
                *e = Health::default();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("http://127.0.0.1:{}", 9000 + i)).collect()
    }

    #[test]
    fn a_failing_endpoint_is_benched_longer_each_time_and_cleared_by_a_success() {
        let e = Endpoints::new(&urls(2));
        assert_eq!(e.pick().0, 0, "the first endpoint is preferred");
        e.failed(0, "test");
        assert_eq!(e.pick().0, 1, "a benched endpoint is skipped");
        let first = e.health.lock().unwrap()[0].benched_until.unwrap();
        e.failed(0, "test");
        let second = e.health.lock().unwrap()[0].benched_until.unwrap();
        assert!(second > first, "consecutive failures bench longer");
        assert_eq!(bench(1), defaults::RPC_BENCH_BASE);
        assert_eq!(bench(2), defaults::RPC_BENCH_BASE * 2);
        assert_eq!(bench(40), defaults::RPC_BENCH_MAX);
        e.succeeded(0);
        assert_eq!(e.pick().0, 0, "a success clears the bench");
    }

    #[test]
    fn when_every_endpoint_is_benched_the_one_back_first_is_used() {
        let e = Endpoints::new(&urls(3));
        e.failed(0, "test");
        e.failed(0, "test");
        e.failed(0, "test"); // benched 4 base
        e.failed(1, "test"); // benched 1 base
        e.failed(2, "test");
        e.failed(2, "test"); // benched 2 base
        assert_eq!(e.pick().0, 1);
        // One endpoint alone is always used.
        let one = Endpoints::new(&urls(1));
        one.failed(0, "test");
        assert_eq!(one.pick().0, 0);
    }
}
