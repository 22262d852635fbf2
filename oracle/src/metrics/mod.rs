//! Node metrics (jobs by state, tokens and inference time for tok/s, transactions sent/retried/failed, RPC errors,
//! slashes seen, URI prompt fetches) rendered in the Prometheus text format, and a tiny HTTP server for `/metrics` and `/health`.
use {
    std::{
        collections::BTreeMap,
        sync::{
            atomic::{AtomicU64, Ordering},
            Arc, Mutex,
        },
    },
    tokio::io::{AsyncReadExt, AsyncWriteExt},
};

#[derive(Default)]
struct Inner {
    jobs: Mutex<BTreeMap<String, String>>,
    tokens_out: AtomicU64,
    infer_micros: AtomicU64,
    tx_sent: AtomicU64,
    tx_retries: AtomicU64,
    tx_resent: AtomicU64,
    tx_failed: AtomicU64,
    rpc_errors: AtomicU64,
    slashes: AtomicU64,
    slashed_amount: AtomicU64,
    finalized: AtomicU64,
    prompt_fetches: AtomicU64,
    prompt_fetch_failures: AtomicU64,
}

/// Shared, cheap-to-clone metrics registry.
#[derive(Clone, Default)]
pub struct Metrics(Arc<Inner>);

impl Metrics {
    pub fn tx_sent(&self) {
        self.0.tx_sent.fetch_add(1, Ordering::Relaxed);
    }
    pub fn tx_retry(&self) {
        self.0.tx_retries.fetch_add(1, Ordering::Relaxed);
    }
    /// The same signed transaction was sent again while it was being confirmed.
    pub fn tx_resent(&self) {
        self.0.tx_resent.fetch_add(1, Ordering::Relaxed);
    }
    pub fn tx_failed(&self) {
        self.0.tx_failed.fetch_add(1, Ordering::Relaxed);
    }
    pub fn rpc_error(&self) {
        self.0.rpc_errors.fetch_add(1, Ordering::Relaxed);
    }
    pub fn finalized(&self) {
        self.0.finalized.fetch_add(1, Ordering::Relaxed);
    }
    /// Records one URI prompt fetch (after its retries): usable, or not (no commit follows).
    pub fn prompt_fetch(&self, ok: bool) {
        let c = if ok { &self.0.prompt_fetches } else { &self.0.prompt_fetch_failures };
        c.fetch_add(1, Ordering::Relaxed);
    }
    /// Records one finished inference.
    pub fn inference(&self, tokens: u64, secs: f64) {
        self.0.tokens_out.fetch_add(tokens, Ordering::Relaxed);
        self.0.infer_micros.fetch_add((secs * 1e6) as u64, Ordering::Relaxed);
    }
    /// Records that this node was slashed `amount` stake units.
    pub fn slashed(&self, amount: u64) {
        self.0.slashes.fetch_add(1, Ordering::Relaxed);
        self.0.slashed_amount.fetch_add(amount, Ordering::Relaxed);
    }
    /// Sets the state of the job for `request`.
    pub fn job_state(&self, request: &str, state: &str) {
        if let Ok(mut jobs) = self.0.jobs.lock() {
            jobs.insert(request.to_string(), state.to_string());
        }
    }
    pub fn counter(&self, name: &str) -> u64 {
        let c = match name {
            "tx_sent" => &self.0.tx_sent,
            "tx_retries" => &self.0.tx_retries,
            "tx_resent" => &self.0.tx_resent,
            "tx_failed" => &self.0.tx_failed,
            "rpc_errors" => &self.0.rpc_errors,
            "slashes" => &self.0.slashes,
            "finalized" => &self.0.finalized,
            "tokens_out" => &self.0.tokens_out,
            "infer_micros" => &self.0.infer_micros,
            "prompt_fetches" => &self.0.prompt_fetches,
            "prompt_fetch_failures" => &self.0.prompt_fetch_failures,
            _ => return 0,
        };
        c.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut by_state: BTreeMap<String, u64> = BTreeMap::new();
        if let Ok(jobs) = self.0.jobs.lock() {
            for s in jobs.values() {
                *by_state.entry(s.clone()).or_default() += 1;
            }
        }
        let mut out = String::from("# TYPE verity_jobs gauge\n");
        for (s, n) in by_state {
            out += &format!("verity_jobs{{state=\"{s}\"}} {n}\n");
        }
        let tokens = self.0.tokens_out.load(Ordering::Relaxed);
        let secs = self.0.infer_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let tps = if secs > 0.0 { tokens as f64 / secs } else { 0.0 };
        let counters = [
            ("verity_tokens_generated_total", tokens),
            ("verity_tx_sent_total", self.0.tx_sent.load(Ordering::Relaxed)),
            ("verity_tx_retries_total", self.0.tx_retries.load(Ordering::Relaxed)),
            ("verity_tx_resent_total", self.0.tx_resent.load(Ordering::Relaxed)),
            ("verity_tx_failed_total", self.0.tx_failed.load(Ordering::Relaxed)),
            ("verity_rpc_errors_total", self.0.rpc_errors.load(Ordering::Relaxed)),
            ("verity_slashes_total", self.0.slashes.load(Ordering::Relaxed)),
            ("verity_slashed_stake_total", self.0.slashed_amount.load(Ordering::Relaxed)),
            ("verity_requests_finalized_total", self.0.finalized.load(Ordering::Relaxed)),
            ("verity_prompt_fetches_total", self.0.prompt_fetches.load(Ordering::Relaxed)),
            ("verity_prompt_fetch_failures_total", self.0.prompt_fetch_failures.load(Ordering::Relaxed)),
        ];
        for (name, v) in counters {
            out += &format!("# TYPE {name} counter\n{name} {v}\n");
        }
        out += &format!("# TYPE verity_tokens_per_second gauge\nverity_tokens_per_second {tps:.3}\n");
        out
    }
}

/// Serves `GET /metrics` and `GET /health` on `addr` until the task is aborted; returns the bound address.
pub async fn serve(
    addr: &str,
    metrics: Metrics,
) -> anyhow::Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let task = tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let metrics = metrics.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]);
                let path = req.split_whitespace().nth(1).unwrap_or("");
                let (status, body) = match path {
                    "/metrics" => ("200 OK", metrics.render()),
                    "/health" => ("200 OK", "ok\n".to_string()),
                    _ => ("404 Not Found", "not found\n".to_string()),
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
            });
        }
    });
    Ok((local, task))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(addr: std::net::SocketAddr, path: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn serves_metrics_and_health() {
        let m = Metrics::default();
        m.job_state("r1", "committing");
        m.job_state("r2", "committing");
        m.job_state("r3", "done");
        m.tx_sent();
        m.tx_retry();
        m.slashed(5);
        m.inference(10, 2.0);
        let (addr, task) = serve("127.0.0.1:0", m.clone()).await.unwrap();
        let body = get(addr, "/metrics").await;
        assert!(body.starts_with("HTTP/1.1 200"), "{body}");
        assert!(body.contains("verity_jobs{state=\"committing\"} 2"), "{body}");
        assert!(body.contains("verity_jobs{state=\"done\"} 1"));
        assert!(body.contains("verity_tx_retries_total 1"));
        assert!(body.contains("verity_slashes_total 1"));
        assert!(body.contains("verity_slashed_stake_total 5"));
        assert!(body.contains("verity_tokens_per_second 5.000"));
        assert!(get(addr, "/health").await.ends_with("ok\n"));
        assert!(get(addr, "/nope").await.starts_with("HTTP/1.1 404"));
        task.abort();
    }
}
