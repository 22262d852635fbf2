//! Hash + URI prompts: a node fetches a request's prompt over http(s) and uses it only when its sha256 is the
//! request's `prompt_hash`. Bounded (the model's `max_input_bytes`, a timeout per try), no redirects, no proxy
//! from the environment, no content decoding (the bytes hashed are the bytes served), and by default only public
//! addresses: a requester must not make operators' nodes probe their own networks (names resolve through a
//! filter, so a name cannot rebind to a private address; literal IPs are checked too).
use {
    reqwest::dns::{Addrs, Name, Resolve, Resolving},
    sha2::{Digest, Sha256},
    std::{
        net::{IpAddr, SocketAddr},
        sync::Arc,
        time::Duration,
    },
};

/// How a node fetches URI prompts (config `fetch_prompts`, `fetch_timeout_ms`, `fetch_private_hosts`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchOptions {
    /// Fetch at all (false: URI requests are not served, like a failed fetch).
    pub enabled: bool,
    /// Per try (connect + body).
    pub timeout: Duration,
    /// Also loopback, private, link-local and other non-public addresses (local networks and tests only).
    pub allow_private: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions { enabled: true, timeout: crate::defaults::PROMPT_FETCH_TIMEOUT, allow_private: false }
    }
}

/// Why a URI prompt is not usable. [`FetchError::is_transient`] ones are worth another try.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum FetchError {
    #[error("this node does not fetch URI prompts (fetch_prompts = false)")]
    Disabled,
    #[error("prompt URI {0:?} is not an http(s) URL")]
    BadUri(String),
    #[error("prompt URI host {0} is not a public address (fetch_private_hosts = false)")]
    PrivateHost(String),
    #[error("prompt URI answered HTTP {0}")]
    Status(u16),
    #[error("prompt URI redirects ({0}); redirects are not followed")]
    Redirect(u16),
    #[error("prompt at the URI is larger than {0} bytes")]
    TooLarge(usize),
    #[error("prompt at the URI does not hash to the request's prompt_hash")]
    HashMismatch,
    #[error("fetching the prompt URI: {0}")]
    Transport(String),
}

impl FetchError {
    /// A timeout, a connection failure, HTTP 429 or 5xx: the same URI may answer later.
    pub fn is_transient(&self) -> bool {
        matches!(self, FetchError::Transport(_)) || matches!(self, FetchError::Status(s) if *s == 429 || *s >= 500)
    }
}

/// Whether `ip` is a public unicast address: not loopback, private, link-local, CGNAT, benchmarking,
/// documentation, IETF-protocol, 6to4-relay, reserved, multicast, unspecified or broadcast; in IPv6 also not
/// unique-local, site-local, IPv4-compatible, NAT64 (64:ff9b::/96, 64:ff9b:1::/48: it may reach a private IPv4)
/// or 6to4 (2002::/16: it embeds an IPv4); IPv4-mapped judged as its IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || (a == 192 && b == 0 && v4.octets()[2] == 0)
                || (a == 192 && b == 88 && v4.octets()[2] == 99)
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || s[0] == 0x2002
                || (s[0] == 0x0064 && s[1] == 0xff9b && (s[2] == 0 || s[2] == 1))
                || s[..6].iter().all(|&x| x == 0))
        }
    }
}

/// DNS through the system resolver, keeping only public addresses (none left: the name is refused).
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.filter(|a| is_public(a.ip())).collect();
            if addrs.is_empty() {
                return Err(Box::new(FetchError::PrivateHost(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Fetches URI prompts with [`FetchOptions`].
#[derive(Clone)]
pub struct PromptFetcher {
    opts: FetchOptions,
    client: reqwest::Client,
}

impl PromptFetcher {
    pub fn new(opts: FetchOptions) -> anyhow::Result<PromptFetcher> {
        let mut b = reqwest::Client::builder()
            .timeout(opts.timeout)
            .connect_timeout(opts.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .user_agent(concat!("verity-oracle/", env!("CARGO_PKG_VERSION")));
        if !opts.allow_private {
            b = b.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(PromptFetcher { client: b.build()?, opts })
    }

    /// One try: the bytes at `uri` when they hash to `hash` and are at most `max_bytes` long.
    pub async fn fetch(&self, uri: &str, hash: &[u8; 32], max_bytes: usize) -> Result<Vec<u8>, FetchError> {
        if !self.opts.enabled {
            return Err(FetchError::Disabled);
        }
        let url = reqwest::Url::parse(uri).map_err(|_| FetchError::BadUri(uri.into()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(FetchError::BadUri(uri.into()));
        }
        let host = url.host_str().unwrap_or_default();
        let literal: Option<IpAddr> = host.trim_start_matches('[').trim_end_matches(']').parse().ok();
        if let Some(ip) = literal.filter(|ip| !self.opts.allow_private && !is_public(*ip)) {
            return Err(FetchError::PrivateHost(ip.to_string()));
        }
        let transport = |e: reqwest::Error| {
            // The resolver's refusal surfaces as a connect error: report it as what it is.
            let mut src: Option<&dyn std::error::Error> = Some(&e);
            while let Some(s) = src {
                if let Some(f) = s.downcast_ref::<FetchError>() {
                    return f.clone();
                }
                src = s.source();
            }
            FetchError::Transport(e.without_url().to_string())
        };
        let mut resp = self.client.get(url).send().await.map_err(transport)?;
        let status = resp.status();
        if status.is_redirection() {
            return Err(FetchError::Redirect(status.as_u16()));
        }
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        if resp.content_length().is_some_and(|n| n > max_bytes as u64) {
            return Err(FetchError::TooLarge(max_bytes));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > max_bytes {
                return Err(FetchError::TooLarge(max_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        if Sha256::digest(&body).as_slice() != hash {
            return Err(FetchError::HashMismatch);
        }
        Ok(body)
    }

    /// [`Self::fetch`], retrying transient failures `tries` times in all (1 s, 2 s, … apart).
    pub async fn fetch_retrying(
        &self,
        uri: &str,
        hash: &[u8; 32],
        max_bytes: usize,
        tries: u32,
    ) -> Result<Vec<u8>, FetchError> {
        let mut attempt = 1;
        loop {
            match self.fetch(uri, hash, max_bytes).await {
                Err(e) if e.is_transient() && attempt < tries => {
                    tracing::debug!(uri, attempt, "prompt fetch failed, retrying: {e}");
                    tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
                    attempt += 1;
                }
                r => return r,
            }
        }
    }
}

#[cfg(test)]
#[path = "prompt_fetch_tests.rs"]
mod tests;
