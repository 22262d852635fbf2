//! Durable per-request store (redb, an embedded ACID database; every write is an fsynced transaction). The node
//! writes a job's output, output hash and salt here BEFORE it sends the commit, so a node killed at any point can
//! restart, re-read the chain and still reveal — the salt exists nowhere else.
use {
    redb::{Database, ReadableTable, TableDefinition},
    serde::{Deserialize, Serialize},
    std::path::Path,
};

const JOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("jobs");

/// How far this node got with one request (the chain is the source of truth; this records local facts only).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Output, hash and salt are stored; the commit may or may not have been sent.
    Inferred,
    /// The commit transaction confirmed.
    Committed,
    /// The reveal transaction confirmed.
    Revealed,
    /// Nothing left to do for this node (finalized and claimed, refunded, or not servable).
    Done,
}

/// The local record of one assigned request.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Job {
    pub request: String,
    pub phase: Phase,
    pub output: String,
    /// Hex of sha256(profile_hash ‖ output).
    pub output_hash: String,
    /// Hex of the 32-byte commitment salt.
    pub salt: String,
    pub tokens_in: u32,
    pub tokens_out: u32,
    /// Why the job ended without serving (e.g. unknown model), if it did.
    #[serde(default)]
    pub note: String,
}

impl Job {
    /// A job with nothing stored yet (used to record that a request or round is done for this node).
    pub fn empty(id: &str) -> Job {
        Job {
            request: id.to_string(),
            phase: Phase::Done,
            output: String::new(),
            output_hash: String::new(),
            salt: String::new(),
            tokens_in: 0,
            tokens_out: 0,
            note: String::new(),
        }
    }

    pub fn output_hash_bytes(&self) -> anyhow::Result<[u8; 32]> {
        hex32(&self.output_hash)
    }
    pub fn salt_bytes(&self) -> anyhow::Result<[u8; 32]> {
        hex32(&self.salt)
    }
}

fn hex32(s: &str) -> anyhow::Result<[u8; 32]> {
    let v = hex::decode(s)?;
    v.try_into().map_err(|_| anyhow::anyhow!("expected 32 bytes of hex, got {s:?}"))
}

/// The job database.
pub struct Store {
    db: Database,
}

impl Store {
    /// Opens (or creates) the store at `path`; its parent directory is created if needed.
    pub fn open(path: &Path) -> anyhow::Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let db = Database::create(path).map_err(|e| anyhow::anyhow!("opening store {}: {e}", path.display()))?;
        let w = db.begin_write()?;
        w.open_table(JOBS)?;
        w.commit()?;
        Ok(Store { db })
    }

    /// Inserts or replaces `job` durably (returns after the transaction is committed to disk).
    pub fn put(&self, job: &Job) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec(job)?;
        let w = self.db.begin_write()?;
        {
            let mut t = w.open_table(JOBS)?;
            t.insert(job.request.as_str(), bytes.as_slice())?;
        }
        w.commit()?;
        Ok(())
    }

    pub fn get(&self, request: &str) -> anyhow::Result<Option<Job>> {
        let r = self.db.begin_read()?;
        let t = r.open_table(JOBS)?;
        match t.get(request)? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
            None => Ok(None),
        }
    }

    /// Updates the phase of a stored job (no-op when absent).
    pub fn set_phase(&self, request: &str, phase: Phase) -> anyhow::Result<()> {
        if let Some(mut job) = self.get(request)? {
            if job.phase != phase {
                job.phase = phase;
                self.put(&job)?;
            }
        }
        Ok(())
    }

    pub fn all(&self) -> anyhow::Result<Vec<Job>> {
        let r = self.db.begin_read()?;
        let t = r.open_table(JOBS)?;
        let mut out = Vec::new();
        for item in t.iter()? {
            let (_, v) = item?;
            out.push(serde_json::from_slice(v.value())?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str) -> Job {
        Job {
            request: id.into(),
            phase: Phase::Inferred,
            output: "Paris".into(),
            output_hash: "11".repeat(32),
            salt: "22".repeat(32),
            tokens_in: 3,
            tokens_out: 1,
            note: String::new(),
        }
    }

    #[test]
    fn jobs_survive_reopen_and_phase_updates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.redb");
        {
            let s = Store::open(&path).unwrap();
            s.put(&job("a")).unwrap();
            s.put(&job("b")).unwrap();
            s.set_phase("a", Phase::Committed).unwrap();
            s.set_phase("missing", Phase::Done).unwrap();
        }
        let s = Store::open(&path).unwrap();
        let a = s.get("a").unwrap().unwrap();
        assert_eq!(a.phase, Phase::Committed);
        assert_eq!(a.salt_bytes().unwrap(), [0x22; 32]);
        assert_eq!(s.get("b").unwrap().unwrap().phase, Phase::Inferred);
        assert!(s.get("missing").unwrap().is_none());
        assert_eq!(s.all().unwrap().len(), 2);
    }

    #[test]
    fn bad_hex_is_a_clear_error() {
        let mut j = job("x");
        j.salt = "zz".into();
        assert!(j.salt_bytes().is_err());
        j.salt = "00".into();
        assert!(j.salt_bytes().unwrap_err().to_string().contains("32 bytes"));
    }
}
