//! Node configuration: a TOML file, then `VERITY_*` environment overrides (keypair path, RPC/WS URLs, models,
//! compute profile, device, concurrency, store path, metrics port, polling interval, URI prompt fetching). Every
//! bad value is a one-line error.
use {
    serde::Deserialize,
    std::{path::PathBuf, time::Duration},
};

/// The node's settings.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Operator authority keypair (Solana CLI JSON).
    pub keypair: PathBuf,
    /// JSON-RPC endpoints, in order of preference (failover to the next on errors).
    pub rpc_urls: Vec<String>,
    /// Websocket endpoint for notifications (optional: polling only without it).
    #[serde(default)]
    pub ws_url: Option<String>,
    /// Model served (registry name, see `verity models list`), when `models` is empty.
    #[serde(default = "default_model")]
    pub model: String,
    /// Models served (registry names); each needs a matching on-chain Model (same profile hash).
    #[serde(default)]
    pub models: Vec<String>,
    /// Compute profile: `exact` (default, oracle/NUMERICS.md), `f32` or `q4_1`; it must be the one whose hash
    /// the model's on-chain profile names, or the node serves nothing.
    #[serde(default = "default_dtype")]
    pub dtype: String,
    /// `cpu`, `cuda` or `cuda:N`.
    #[serde(default = "default_device")]
    pub device: String,
    /// Inferences run at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Durable job store (redb file).
    pub store_path: PathBuf,
    /// Port for `/metrics` and `/health` (absent: no server).
    #[serde(default)]
    pub metrics_port: Option<u16>,
    /// Polling interval in milliseconds.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    /// Fetch hash + URI prompts over http(s) (false: such requests are not served).
    #[serde(default = "default_true")]
    pub fetch_prompts: bool,
    /// Per-try timeout of a URI prompt fetch, in milliseconds.
    #[serde(default = "default_fetch_timeout_ms")]
    pub fetch_timeout_ms: u64,
    /// Also fetch from loopback, private and link-local addresses (a private network; never on a public node).
    #[serde(default)]
    pub fetch_private_hosts: bool,
}

fn default_true() -> bool {
    true
}
fn default_fetch_timeout_ms() -> u64 {
    crate::defaults::PROMPT_FETCH_TIMEOUT.as_millis() as u64
}

fn default_model() -> String {
    "smollm2-135m".into()
}
fn default_dtype() -> String {
    crate::inference::Dtype::Exact.as_str().into()
}
fn default_device() -> String {
    "cpu".into()
}
fn default_concurrency() -> usize {
    crate::defaults::CONCURRENCY
}
fn default_poll_ms() -> u64 {
    crate::defaults::POLL.as_millis() as u64
}

impl NodeConfig {
    /// Parses TOML text, then applies overrides from `env` (`VERITY_KEYPAIR`, `VERITY_RPC_URLS` (comma-separated),
    /// `VERITY_WS_URL`, `VERITY_MODEL`, `VERITY_MODELS` (comma-separated), `VERITY_DTYPE`, `VERITY_DEVICE`, `VERITY_CONCURRENCY`, `VERITY_STORE`,
    /// `VERITY_METRICS_PORT`, `VERITY_POLL_MS`, `VERITY_FETCH_PROMPTS`, `VERITY_FETCH_TIMEOUT_MS`,
    /// `VERITY_FETCH_PRIVATE_HOSTS` (`true`/`false`)) and validates.
    pub fn parse(toml_text: &str, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<NodeConfig> {
        let mut table: toml::Table = toml::from_str(toml_text).map_err(|e| anyhow::anyhow!("config: {e}"))?;
        let set = |t: &mut toml::Table, k: &str, v: toml::Value| {
            t.insert(k.into(), v);
        };
        let num = |name: &str, v: &str| -> anyhow::Result<i64> {
            v.trim().parse().map_err(|_| anyhow::anyhow!("{name}={v:?} is not a number"))
        };
        for (var, key) in [
            ("VERITY_KEYPAIR", "keypair"),
            ("VERITY_WS_URL", "ws_url"),
            ("VERITY_MODEL", "model"),
            ("VERITY_DTYPE", "dtype"),
            ("VERITY_DEVICE", "device"),
            ("VERITY_STORE", "store_path"),
        ] {
            if let Some(v) = env(var) {
                set(&mut table, key, toml::Value::String(v));
            }
        }
        for (var, key) in [("VERITY_RPC_URLS", "rpc_urls"), ("VERITY_MODELS", "models")] {
            if let Some(v) = env(var) {
                let list = v.split(',').map(|s| toml::Value::String(s.trim().to_string())).collect();
                set(&mut table, key, toml::Value::Array(list));
            }
        }
        for (var, key) in [
            ("VERITY_CONCURRENCY", "concurrency"),
            ("VERITY_METRICS_PORT", "metrics_port"),
            ("VERITY_POLL_MS", "poll_ms"),
            ("VERITY_FETCH_TIMEOUT_MS", "fetch_timeout_ms"),
        ] {
            if let Some(v) = env(var) {
                set(&mut table, key, toml::Value::Integer(num(var, &v)?));
            }
        }
        for (var, key) in
            [("VERITY_FETCH_PROMPTS", "fetch_prompts"), ("VERITY_FETCH_PRIVATE_HOSTS", "fetch_private_hosts")]
        {
            if let Some(v) = env(var) {
                let b = v.trim().parse().map_err(|_| anyhow::anyhow!("{var}={v:?} is not true or false"))?;
                set(&mut table, key, toml::Value::Boolean(b));
            }
        }
        let cfg: NodeConfig = table.try_into().map_err(|e| anyhow::anyhow!("config: {e}"))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reads `path` (TOML) with the process environment's overrides.
    pub fn load(path: &std::path::Path) -> anyhow::Result<NodeConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        NodeConfig::parse(&text, |k| std::env::var(k).ok())
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(!self.rpc_urls.is_empty(), "config: rpc_urls must list at least one endpoint");
        for u in &self.rpc_urls {
            anyhow::ensure!(u.starts_with("http://") || u.starts_with("https://"), "config: bad RPC URL {u:?}");
        }
        if let Some(ws) = &self.ws_url {
            anyhow::ensure!(ws.starts_with("ws://") || ws.starts_with("wss://"), "config: bad websocket URL {ws:?}");
        }
        self.dtype().map_err(|e| anyhow::anyhow!("config: dtype: {e}"))?;
        let served = self.served_models();
        for (i, m) in served.iter().enumerate() {
            anyhow::ensure!(
                crate::inference::registry::find(m).is_some(),
                "config: unknown model {m:?} (known: {})",
                crate::inference::registry::names()
            );
            anyhow::ensure!(!served[..i].contains(m), "config: model {m:?} listed twice");
        }
        anyhow::ensure!((1..=64).contains(&self.concurrency), "config: concurrency must be 1..=64");
        anyhow::ensure!(
            (100..=120_000).contains(&self.fetch_timeout_ms),
            "config: fetch_timeout_ms must be 100..=120000"
        );
        anyhow::ensure!(
            self.poll_ms >= crate::defaults::MIN_POLL_MS,
            "config: poll_ms must be at least {}",
            crate::defaults::MIN_POLL_MS
        );
        Ok(())
    }

    /// The registry names of the served models: `models`, or else `[model]`.
    pub fn served_models(&self) -> Vec<String> {
        if self.models.is_empty() {
            vec![self.model.clone()]
        } else {
            self.models.clone()
        }
    }

    /// The compute profile's dtype.
    pub fn dtype(&self) -> Result<crate::inference::Dtype, String> {
        self.dtype.parse()
    }

    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.poll_ms)
    }

    /// How the node fetches URI prompts.
    pub fn fetch(&self) -> crate::node::prompt_fetch::FetchOptions {
        crate::node::prompt_fetch::FetchOptions {
            enabled: self.fetch_prompts,
            timeout: Duration::from_millis(self.fetch_timeout_ms),
            allow_private: self.fetch_private_hosts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
keypair = "/keys/op.json"
rpc_urls = ["http://127.0.0.1:8899"]
store_path = "/var/verity/node.redb"
"#;

    #[test]
    fn defaults_and_env_overrides() {
        let cfg = NodeConfig::parse(BASE, |_| None).unwrap();
        assert_eq!(cfg.concurrency, crate::defaults::CONCURRENCY);
        assert_eq!(cfg.model, "smollm2-135m");
        assert_eq!(cfg.dtype(), Ok(crate::inference::Dtype::Exact));
        assert_eq!(cfg.metrics_port, None);
        assert_eq!(cfg.fetch(), crate::node::prompt_fetch::FetchOptions::default(), "fetch public hosts only");
        let env = |k: &str| match k {
            "VERITY_RPC_URLS" => Some("http://a:1, http://b:2".to_string()),
            "VERITY_CONCURRENCY" => Some("4".to_string()),
            "VERITY_METRICS_PORT" => Some("9100".to_string()),
            "VERITY_WS_URL" => Some("ws://a:2".to_string()),
            "VERITY_DTYPE" => Some("f32".to_string()),
            "VERITY_FETCH_PRIVATE_HOSTS" => Some("true".to_string()),
            "VERITY_FETCH_TIMEOUT_MS" => Some("2500".to_string()),
            _ => None,
        };
        let cfg = NodeConfig::parse(BASE, env).unwrap();
        assert!(cfg.fetch().enabled && cfg.fetch().allow_private);
        assert_eq!(cfg.fetch().timeout, Duration::from_millis(2500));
        assert!(!NodeConfig::parse(&format!("{BASE}\nfetch_prompts = false"), |_| None).unwrap().fetch().enabled);
        assert_eq!(cfg.dtype(), Ok(crate::inference::Dtype::F32));
        assert_eq!(cfg.rpc_urls, vec!["http://a:1", "http://b:2"]);
        assert_eq!(cfg.concurrency, 4);
        assert_eq!(cfg.metrics_port, Some(9100));
        assert_eq!(cfg.ws_url.as_deref(), Some("ws://a:2"));
        assert_eq!(cfg.served_models(), vec!["smollm2-135m"]);
        let cfg = NodeConfig::parse(&format!("{BASE}\nmodels = [\"qwen2.5-coder-0.5b\"]"), |_| None).unwrap();
        assert_eq!(cfg.served_models(), vec!["qwen2.5-coder-0.5b"]);
        let env = |k: &str| (k == "VERITY_MODELS").then(|| "smollm2-135m, qwen2.5-coder-0.5b".to_string());
        assert_eq!(NodeConfig::parse(BASE, env).unwrap().served_models(), vec!["smollm2-135m", "qwen2.5-coder-0.5b"]);
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let err =
            |text: &str, env: &dyn Fn(&str) -> Option<String>| NodeConfig::parse(text, env).unwrap_err().to_string();
        assert!(err("keypair = 1", &|_| None).starts_with("config:"));
        assert!(err(BASE, &|k| (k == "VERITY_CONCURRENCY").then(|| "lots".into())).contains("not a number"));
        assert!(err(BASE, &|k| (k == "VERITY_CONCURRENCY").then(|| "0".into())).contains("concurrency"));
        assert!(err(BASE, &|k| (k == "VERITY_RPC_URLS").then(|| "ftp://x".into())).contains("bad RPC URL"));
        assert!(err(&format!("{BASE}\nbogus = 1"), &|_| None).contains("bogus"));
        assert!(err(BASE, &|k| (k == "VERITY_DTYPE").then(|| "bf16".into())).contains("unknown dtype `bf16`"));
        assert!(err(BASE, &|k| (k == "VERITY_MODELS").then(|| "gpt-9".into())).contains("unknown model \"gpt-9\""));
        assert!(err(BASE, &|k| (k == "VERITY_FETCH_PROMPTS").then(|| "yes".into())).contains("not true or false"));
        assert!(err(BASE, &|k| (k == "VERITY_FETCH_TIMEOUT_MS").then(|| "5".into())).contains("fetch_timeout_ms"));
        let twice = |k: &str| (k == "VERITY_MODELS").then(|| "smollm2-135m,smollm2-135m".into());
        assert!(err(BASE, &twice).contains("listed twice"));
    }
}
