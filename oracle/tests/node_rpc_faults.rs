//! RPC faults: every node talks to the validator only through faulty JSON-RPC proxies (in this test) that answer
//! 503, drop the connection before or after forwarding, or delay a share of calls; one node's first endpoint is
//! dead. Websockets are off, so the polling fallback drives the nodes. Rounds still finalize, each member
//! committed and revealed exactly once, and no commit/reveal/claim was executed twice (no double sends landed).
#![cfg(feature = "localnet")]
mod node_support;

use {
    node_support::*,
    solana_signer::Signer,
    std::{
        sync::{
            atomic::{AtomicU64, Ordering},
            Arc,
        },
        time::Duration,
    },
    tokio::io::{AsyncReadExt, AsyncWriteExt},
    verity::state::{MemberState, Outcome, RequestStatus},
    verity_oracle::chain::wallet,
};

#[derive(Default)]
struct Counts {
    calls: AtomicU64,
    faults: AtomicU64,
}

/// Starts a proxy to `upstream`; returns its URL. Of every 10 calls: one 503, one dropped before forwarding, one
/// forwarded with the reply dropped, one delayed 1.5 s.
async fn faulty_proxy(upstream: String, counts: Arc<Counts>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let http = reqwest::Client::new();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (http, upstream, counts) = (http.clone(), upstream.clone(), counts.clone());
            tokio::spawn(async move {
                loop {
                    let Some(body) = read_request(&mut sock).await else { return };
                    let n = counts.calls.fetch_add(1, Ordering::SeqCst);
                    // A fixed pseudo-random permutation of the fault kinds.
                    let kind = (n.wrapping_mul(7919) ^ (n >> 3)) % 10;
                    if kind < 4 {
                        counts.faults.fetch_add(1, Ordering::SeqCst);
                    }
                    match kind {
                        0 => {
                            let _ =
                                sock.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n").await;
                            continue;
                        }
                        1 => return, // dropped before forwarding
                        3 => tokio::time::sleep(Duration::from_millis(1500)).await,
                        _ => {}
                    }
                    let reply = http.post(&upstream).header("content-type", "application/json").body(body).send().await;
                    let Ok(reply) = reply else { return };
                    let Ok(bytes) = reply.bytes().await else { return };
                    if kind == 2 {
                        return; // forwarded, reply lost
                    }
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        bytes.len()
                    );
                    if sock.write_all(head.as_bytes()).await.is_err() || sock.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

/// Reads one HTTP/1.1 request (headers + Content-Length body); None at EOF.
async fn read_request(sock: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0);
    while buf.len() < header_end + len {
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(buf[header_end..header_end + len].to_vec())
}

#[test]
fn rounds_complete_through_faulty_rpc_without_double_sends() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let engine = engine();
        let mut c = cluster("node-rpc-faults", 3, 60, engine.profiles()[0]).await;
        let counts = Arc::new(Counts::default());
        let upstream = c.rpc_url().to_string();
        let p1 = faulty_proxy(upstream.clone(), counts.clone()).await;
        let p2 = faulty_proxy(upstream.clone(), counts.clone()).await;
        let dead = "http://127.0.0.1:9".to_string();
        let mut opts = c.opts.clone();
        opts.ws_url = None; // polling fallback only
        for i in 0..3 {
            let urls = if i == 0 { vec![dead.clone(), p1.clone()] } else { vec![p1.clone(), p2.clone()] };
            c.start_with(i, engine.clone(), &urls, opts.clone()).await.unwrap();
        }
        let chain = c.client().unwrap();
        let prompts = ["What is the capital of France?", "Name a primary color."];
        let mut keys = Vec::new();
        for p in prompts {
            keys.push(submit(&chain, &c, p).await);
        }
        for key in &keys {
            let r = wallet::wait_final(&chain, key, Duration::from_secs(300)).await.unwrap();
            eprintln!("{}", wallet::describe(key, &r, None));
            assert_eq!(r.status, RequestStatus::Finalized);
            assert_eq!(r.receipt.agreement_count, 3);
            assert!(r
                .committee
                .members
                .iter()
                .all(|m| m.state == MemberState::Revealed && m.outcome == Outcome::Agreed));
            wallet::wait_output(&chain, key, Duration::from_secs(120)).await.unwrap();
        }
        let calls = counts.calls.load(Ordering::SeqCst);
        let faults = counts.faults.load(Ordering::SeqCst);
        eprintln!("proxied calls {calls}, faults injected {faults}");
        assert!(faults >= 10, "the proxies must actually have injected faults ({faults} of {calls})");
        let retries: u64 =
            c.nodes.iter().map(|n| n.metrics.counter("tx_retries") + n.metrics.counter("rpc_errors")).sum();
        assert!(retries > 0, "faults must have been retried");
        // No commit or reveal executed twice: a resend of a landed commit/reveal would fail on chain with
        // AlreadyCommitted/AlreadyRevealed (racing cranks of assign/finalize by several nodes may fail harmlessly).
        let rpc = solana_rpc_client::nonblocking::rpc_client::RpcClient::new(upstream);
        let doubles = [
            verity::VerityError::AlreadyCommitted,
            verity::VerityError::AlreadyRevealed,
            verity::VerityError::AlreadyClaimed,
        ];
        for n in &c.nodes {
            let sigs = rpc.get_signatures_for_address(&n.keypair.pubkey()).await.unwrap();
            for s in sigs.iter().filter(|s| s.err.is_some()) {
                let err = format!("{:?}", s.err);
                eprintln!("node {} failed tx {}: {err}", n.keypair.pubkey(), s.signature);
                for d in doubles {
                    assert!(!err.contains(&format!("Custom({})", u32::from(d))), "double send landed: {err}");
                }
            }
        }
    });
}
