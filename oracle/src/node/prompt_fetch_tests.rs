//! URI prompt fetches against a real local HTTP server (tokio, one canned answer per path): hash check, size cap
//! (declared and undeclared length), statuses, redirects, private-address refusal (literal and by name), retries.
use {
    super::*,
    std::sync::atomic::{AtomicUsize, Ordering},
    tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpListener,
    },
};

const MAX: usize = verity::MAX_LONG_PROMPT_BYTES as usize;

fn sha(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

/// Serves until the test ends: `GET /ok` the body, `/big` MAX + 1 bytes with a length, `/stream` MAX + 1 bytes
/// without one (close-delimited), `/moved` a 302, `/missing` a 404, `/flaky` a 503 but on every third hit.
/// Returns the address and the count of requests served.
async fn server(body: &'static [u8]) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let (served, flaky) = (hits.clone(), Arc::new(AtomicUsize::new(0)));
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let (served, flaky) = (served.clone(), flaky.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let line = String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or_default().to_string();
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                served.fetch_add(1, Ordering::SeqCst);
                let big = vec![b'x'; MAX + 1];
                let (head, data): (String, &[u8]) = match path.as_str() {
                    "/ok" => (format!("200 OK\r\nContent-Length: {}", body.len()), body),
                    "/big" => (format!("200 OK\r\nContent-Length: {}", big.len()), &big),
                    "/stream" => ("200 OK".into(), &big),
                    "/moved" => ("302 Found\r\nLocation: http://10.0.0.1/\r\nContent-Length: 0".into(), b""),
                    "/flaky" if flaky.fetch_add(1, Ordering::SeqCst) % 3 != 2 => {
                        ("503 Service Unavailable\r\nContent-Length: 0".into(), b"")
                    }
                    "/flaky" => (format!("200 OK\r\nContent-Length: {}", body.len()), body),
                    _ => ("404 Not Found\r\nContent-Length: 0".into(), b""),
                };
                let _ = sock.write_all(format!("HTTP/1.1 {head}\r\nConnection: close\r\n\r\n").as_bytes()).await;
                let _ = sock.write_all(data).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    (addr, hits)
}

fn fetcher(allow_private: bool) -> PromptFetcher {
    PromptFetcher::new(FetchOptions { enabled: true, timeout: Duration::from_secs(5), allow_private }).unwrap()
}

#[tokio::test]
async fn fetches_checks_the_hash_and_caps_the_size() {
    let body: &'static [u8] = b"Write a haiku about the sea.";
    let (addr, _) = server(body).await;
    let f = fetcher(true);
    let url = |p: &str| format!("http://{addr}{p}");
    assert_eq!(f.fetch(&url("/ok"), &sha(body), MAX).await.unwrap(), body);
    assert_eq!(f.fetch(&url("/ok"), &sha(b"another prompt"), MAX).await, Err(FetchError::HashMismatch));
    assert_eq!(f.fetch(&url("/ok"), &sha(body), body.len() - 1).await, Err(FetchError::TooLarge(body.len() - 1)));
    assert_eq!(f.fetch(&url("/big"), &sha(body), MAX).await, Err(FetchError::TooLarge(MAX)));
    assert_eq!(f.fetch(&url("/stream"), &sha(body), MAX).await, Err(FetchError::TooLarge(MAX)), "no length");
    assert_eq!(f.fetch(&url("/moved"), &sha(body), MAX).await, Err(FetchError::Redirect(302)));
    let missing = f.fetch(&url("/missing"), &sha(body), MAX).await;
    assert_eq!(missing, Err(FetchError::Status(404)));
    assert!(!missing.unwrap_err().is_transient());
    for bad in ["ftp://example.com/p", "not a url", "http://", "file:///etc/passwd"] {
        assert!(matches!(f.fetch(bad, &sha(body), MAX).await, Err(FetchError::BadUri(_))), "{bad}");
    }
    let off = PromptFetcher::new(FetchOptions { enabled: false, ..FetchOptions::default() }).unwrap();
    assert_eq!(off.fetch(&url("/ok"), &sha(body), MAX).await, Err(FetchError::Disabled));
}

#[tokio::test]
async fn transient_failures_are_retried_and_others_are_not() {
    let body: &'static [u8] = b"Explain recursion in one sentence.";
    let (addr, hits) = server(body).await;
    let f = fetcher(true);
    let flaky = format!("http://{addr}/flaky");
    let first = f.fetch(&flaky, &sha(body), MAX).await;
    assert_eq!(first, Err(FetchError::Status(503)));
    assert!(first.unwrap_err().is_transient());
    // Next: a 503, then a 200 — two tries.
    assert_eq!(f.fetch_retrying(&flaky, &sha(body), MAX, 2).await.unwrap(), body);
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    let wrong = f.fetch_retrying(&format!("http://{addr}/ok"), &sha(b"x"), MAX, 3).await;
    assert_eq!((wrong, hits.load(Ordering::SeqCst)), (Err(FetchError::HashMismatch), 4), "tried once");
    // Nothing listens there: a transport error, transient.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let e = f.fetch(&format!("http://{closed}/p"), &sha(body), MAX).await.unwrap_err();
    assert!(matches!(e, FetchError::Transport(_)) && e.is_transient(), "{e:?}");
}

#[tokio::test]
async fn private_addresses_are_refused_by_default() {
    let body: &'static [u8] = b"hello";
    let (addr, hits) = server(body).await;
    let f = fetcher(false);
    let port = addr.port();
    for uri in [format!("http://127.0.0.1:{port}/ok"), format!("http://[::1]:{port}/ok")] {
        assert!(matches!(f.fetch(&uri, &sha(body), MAX).await, Err(FetchError::PrivateHost(_))), "{uri}");
    }
    // By name: `localhost` resolves to loopback only, which the resolver drops.
    let by_name = f.fetch(&format!("http://localhost:{port}/ok"), &sha(body), MAX).await;
    assert_eq!(by_name, Err(FetchError::PrivateHost("localhost".into())));
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the server never saw a request");
}

#[test]
fn public_addresses() {
    let public = ["1.1.1.1", "8.8.8.8", "2606:4700::1111", "::ffff:1.1.1.1", "2a00:1450::1"];
    let private = [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.1",
        "198.18.0.1",
        "::1",
        "::",
        "fc00::1",
        "fd12::1",
        "fe80::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2001:db8::1",
        "64:ff9b::a00:5",
        "64:ff9b:1::1",
        "::10.0.0.1",
        "2002:a00:1::1",
        "fec0::1",
        "192.0.0.8",
        "192.88.99.1",
    ];
    for ip in public {
        assert!(is_public(ip.parse().unwrap()), "{ip}");
    }
    for ip in private {
        assert!(!is_public(ip.parse().unwrap()), "{ip}");
    }
}
