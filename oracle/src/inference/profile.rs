//! Reproducibility profile: the fields that pin an output, their canonical serialization and hashes.
//!
//! The byte layout is specified in `oracle/PROFILE.md`; `profile_hash` and `output_hash` implement it.

use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt;

/// Domain tag that opens the canonical serialization of a profile (version 1).
pub const PROFILE_DOMAIN: &str = "verity-profile-v1";
/// The decoding rule this engine implements (oracle/NUMERICS.md §7: greedy at temperature 0, else seeded
/// Philox4x32-10 top-p sampling of the request's parameters).
pub const DECODING: &str = "verity-sample-v1";
/// Engine identity of the candle profiles (f32, q4_1): bumped whenever their forward pass changes. The exact
/// profile's is the spec version it implements ([`verity_exact::SPEC_VERSION`], oracle/NUMERICS.md).
pub const ENGINE_VERSION: &str = "verity-llama-v1/candle-0.11.1";

/// Compute dtype of the forward pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Dtype {
    /// The exact profile (default): oracle/NUMERICS.md, integer block products on the GGUF's own quantized
    /// weights with pinned float orders; the same bits on every conforming CPU, batch and thread count.
    Exact,
    /// All weight matrices dequantized to f32 at load; f32 activations (candle; CPU/GPU-agreeing by measurement).
    F32,
    /// Weight matrices kept in their GGUF quantized types (Q4_1 / Q8_0) with native quantized kernels.
    Q4_1,
}

impl Dtype {
    /// Canonical name written into the profile serialization.
    pub fn as_str(self) -> &'static str {
        match self {
            Dtype::Exact => "exact",
            Dtype::F32 => "f32",
            Dtype::Q4_1 => "q4_1",
        }
    }
}

impl Dtype {
    /// The `engine_version` field of a profile of this dtype.
    pub fn engine_version(self) -> &'static str {
        match self {
            Dtype::Exact => verity_exact::SPEC_VERSION,
            Dtype::F32 | Dtype::Q4_1 => ENGINE_VERSION,
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Dtype {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "exact" => Ok(Dtype::Exact),
            "f32" => Ok(Dtype::F32),
            "q4_1" => Ok(Dtype::Q4_1),
            other => Err(format!("unknown dtype `{other}` (expected `exact`, `f32` or `q4_1`)")),
        }
    }
}

/// Every field that determines the output text for a given prompt and max_tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// sha256 of the GGUF file bytes.
    pub weights_sha256: [u8; 32],
    /// sha256 of the canonical tokenizer serialization (see `tokenizer::tokenizer_sha256`).
    pub tokenizer_sha256: [u8; 32],
    pub dtype: Dtype,
    pub decoding: String,
    /// Prompt template; `{prompt}` marks where the user text goes.
    pub chat_template: String,
    /// Token ids that end generation (kept sorted ascending, no duplicates).
    pub stop_tokens: Vec<u32>,
    pub engine_version: String,
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    // Lengths are bounded by the template/field sizes we build; u32 covers any real profile.
    let len = u32::try_from(b.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(b);
}

impl Profile {
    /// Canonical serialization (Borsh layout of the struct in PROFILE.md).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.chat_template.len());
        put_bytes(&mut out, PROFILE_DOMAIN.as_bytes());
        out.extend_from_slice(&self.weights_sha256);
        out.extend_from_slice(&self.tokenizer_sha256);
        put_bytes(&mut out, self.dtype.as_str().as_bytes());
        put_bytes(&mut out, self.decoding.as_bytes());
        put_bytes(&mut out, self.chat_template.as_bytes());
        let mut stops = self.stop_tokens.clone();
        stops.sort_unstable();
        stops.dedup();
        let n = u32::try_from(stops.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&n.to_le_bytes());
        for t in stops {
            out.extend_from_slice(&t.to_le_bytes());
        }
        put_bytes(&mut out, self.engine_version.as_bytes());
        out
    }

    /// sha256 of `canonical_bytes`.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.canonical_bytes()).into()
    }

    pub fn hash_hex(&self) -> String {
        hex::encode(self.hash())
    }
}

/// `output_hash = sha256(profile_hash ‖ output text as UTF-8)`.
pub fn output_hash(profile_hash: &[u8; 32], text: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(profile_hash);
    h.update(text.as_bytes());
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed() -> Profile {
        Profile {
            weights_sha256: [0x11; 32],
            tokenizer_sha256: [0x22; 32],
            dtype: Dtype::F32,
            decoding: DECODING.into(),
            chat_template: "<|im_start|>user\n{prompt}<|im_end|>\n".into(),
            stop_tokens: vec![2, 0],
            engine_version: "verity-llama-v1/candle-0.11.1".into(),
        }
    }

    #[test]
    fn canonical_bytes_layout_is_pinned() {
        let b = fixed().canonical_bytes();
        assert_eq!(&b[..4], &17u32.to_le_bytes());
        assert_eq!(&b[4..21], b"verity-profile-v1");
        assert_eq!(&b[21..53], &[0x11; 32]);
        assert_eq!(&b[53..85], &[0x22; 32]);
        assert_eq!(&b[85..92], b"\x03\0\0\0f32");
        // stop tokens are serialized sorted: count 2, then 0, then 2.
        let stops = [2u32, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0];
        let pos = b.windows(12).position(|w| w == stops.map(|x| x as u8)).expect("stop list present");
        assert_eq!(&b[pos + 12..pos + 16], &29u32.to_le_bytes());
        assert_eq!(b.len(), pos + 16 + 29);
    }

    #[test]
    fn profile_hash_of_fixed_profile_is_pinned() {
        assert_eq!(fixed().hash_hex(), "1efa025123b8d6ab9cb5625af58f8c208cc039f094c07185ba9fb5bdbf4f60c9");
    }

    #[test]
    fn every_field_changes_the_hash() {
        let base = fixed().hash();
        let mut p = fixed();
        p.weights_sha256[0] ^= 1;
        assert_ne!(p.hash(), base);
        let mut p = fixed();
        p.tokenizer_sha256[31] ^= 1;
        assert_ne!(p.hash(), base);
        let mut p = fixed();
        p.dtype = Dtype::Q4_1;
        assert_ne!(p.hash(), base);
        let mut p = fixed();
        p.decoding.push('x');
        assert_ne!(p.hash(), base);
        let mut p = fixed();
        p.chat_template.push(' ');
        assert_ne!(p.hash(), base);
        let mut p = fixed();
        p.stop_tokens.push(5);
        assert_ne!(p.hash(), base);
        let mut p = fixed();
        p.engine_version.push('x');
        assert_ne!(p.hash(), base);
        // Order of the stop-token list does not matter: it is a set.
        let mut p = fixed();
        p.stop_tokens = vec![0, 2];
        assert_eq!(p.hash(), base);
    }

    #[test]
    fn output_hash_is_sha256_of_profile_hash_then_text() {
        let ph = fixed().hash();
        let mut concat = ph.to_vec();
        concat.extend_from_slice("héllo".as_bytes());
        let want: [u8; 32] = Sha256::digest(&concat).into();
        assert_eq!(output_hash(&ph, "héllo"), want);
        assert_ne!(output_hash(&ph, "hello"), want);
    }
}
