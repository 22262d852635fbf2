//! Tokenizer built from GGUF metadata (GPT-2 byte-level BPE, `smollm` or `qwen2` pre-tokenizer), its canonical hash,
//! and the chat template.

use candle_core::quantized::gguf_file::{Content, Value};
use sha2::{Digest, Sha256};
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{AddedToken, DecoderWrapper, PreTokenizerWrapper, SplitDelimiterBehavior, Tokenizer};

/// Domain tag of the canonical tokenizer serialization (see PROFILE.md).
pub const TOKENIZER_DOMAIN: &str = "verity-tokenizer-v1";
/// GGUF token type of control (special) tokens.
const TOKEN_TYPE_CONTROL: i32 = 3;
/// GGUF token type of user-defined added tokens (matched in any text, as llama.cpp and HF do; e.g. Qwen's
/// `<tool_call>`).
const TOKEN_TYPE_USER_DEFINED: i32 = 4;
/// The HF Qwen2 tokenizer's pre-tokenizer split (llama.cpp `LLAMA_VOCAB_PRE_TYPE_QWEN2`).
const QWEN2_SPLIT: &str =
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error("GGUF metadata key `{0}` is missing or has the wrong type")]
    Metadata(&'static str),
    #[error(
        "unsupported tokenizer `{model}`/`{pre}` (only gpt2 byte-level BPE with the `smollm` or `qwen2` pre-tokenizer)"
    )]
    Unsupported { model: String, pre: String },
    #[error("malformed BPE merge `{0}` in GGUF metadata")]
    BadMerge(String),
    #[error("tokenizer: {0}")]
    Lib(String),
    #[error("chat template has no `{{prompt}}` placeholder or an unknown special token `{0}`")]
    Template(String),
}

/// The raw tokenizer fields read from GGUF metadata; what the tokenizer hash covers.
#[derive(Debug, Clone)]
pub struct GgufVocab {
    pub model: String,
    pub pre: String,
    pub tokens: Vec<String>,
    pub token_types: Vec<i32>,
    pub merges: Vec<String>,
}

fn md<'a>(ct: &'a Content, key: &'static str) -> Result<&'a Value, TokenizerError> {
    ct.metadata.get(key).ok_or(TokenizerError::Metadata(key))
}

fn str_list(ct: &Content, key: &'static str) -> Result<Vec<String>, TokenizerError> {
    let v = md(ct, key)?.to_vec().map_err(|_| TokenizerError::Metadata(key))?;
    v.iter().map(|x| x.to_string().cloned().map_err(|_| TokenizerError::Metadata(key))).collect()
}

impl GgufVocab {
    pub fn from_gguf(ct: &Content) -> Result<Self, TokenizerError> {
        let s = |k: &'static str| -> Result<String, TokenizerError> {
            md(ct, k)?.to_string().cloned().map_err(|_| TokenizerError::Metadata(k))
        };
        let key = "tokenizer.ggml.token_type";
        let token_types = md(ct, key)?
            .to_vec()
            .map_err(|_| TokenizerError::Metadata(key))?
            .iter()
            .map(|x| x.to_i32().map_err(|_| TokenizerError::Metadata(key)))
            .collect::<Result<Vec<_>, _>>()?;
        let v = GgufVocab {
            model: s("tokenizer.ggml.model")?,
            pre: s("tokenizer.ggml.pre")?,
            tokens: str_list(ct, "tokenizer.ggml.tokens")?,
            token_types,
            merges: str_list(ct, "tokenizer.ggml.merges")?,
        };
        if v.model != "gpt2" || !matches!(v.pre.as_str(), "smollm" | "qwen2") {
            return Err(TokenizerError::Unsupported { model: v.model, pre: v.pre });
        }
        if v.token_types.len() != v.tokens.len() {
            return Err(TokenizerError::Metadata(key));
        }
        Ok(v)
    }

    /// sha256 over the canonical serialization: domain, model, pre, tokens, token types, merges.
    pub fn sha256(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        let put = |h: &mut Sha256, b: &[u8]| {
            h.update((b.len() as u32).to_le_bytes());
            h.update(b);
        };
        put(&mut h, TOKENIZER_DOMAIN.as_bytes());
        put(&mut h, self.model.as_bytes());
        put(&mut h, self.pre.as_bytes());
        h.update((self.tokens.len() as u32).to_le_bytes());
        for t in &self.tokens {
            put(&mut h, t.as_bytes());
        }
        h.update((self.token_types.len() as u32).to_le_bytes());
        for t in &self.token_types {
            h.update(t.to_le_bytes());
        }
        h.update((self.merges.len() as u32).to_le_bytes());
        for m in &self.merges {
            put(&mut h, m.as_bytes());
        }
        h.finalize().into()
    }

    /// Build the HF `tokenizers` equivalent: BPE with the pre-tokenizer of `pre` (`smollm`: Digits(individual) +
    /// ByteLevel; `qwen2`: the Qwen2 regex split + ByteLevel without its own regex), ByteLevel decoder, no BOS;
    /// control tokens special (never parsed from user text), user-defined tokens plain added tokens.
    pub fn build(&self) -> Result<Tokenizer, TokenizerError> {
        let vocab: tokenizers::models::bpe::Vocab =
            self.tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
        let merges = self
            .merges
            .iter()
            .map(|m| {
                let (a, b) = m.split_once(' ').ok_or_else(|| TokenizerError::BadMerge(m.clone()))?;
                Ok((a.to_string(), b.to_string()))
            })
            .collect::<Result<Vec<_>, TokenizerError>>()?;
        let bpe =
            BPE::builder().vocab_and_merges(vocab, merges).build().map_err(|e| TokenizerError::Lib(e.to_string()))?;
        let mut tok = Tokenizer::new(bpe);
        let pre = if self.pre == "qwen2" {
            let split = Split::new(SplitPattern::Regex(QWEN2_SPLIT.into()), SplitDelimiterBehavior::Isolated, false)
                .map_err(|e| TokenizerError::Lib(e.to_string()))?;
            Sequence::new(vec![
                PreTokenizerWrapper::Split(split),
                PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, false, false)),
            ])
        } else {
            Sequence::new(vec![
                PreTokenizerWrapper::Digits(Digits::new(true)),
                PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, true, true)),
            ])
        };
        tok.with_pre_tokenizer(Some(PreTokenizerWrapper::Sequence(pre)));
        tok.with_decoder(Some(DecoderWrapper::ByteLevel(ByteLevel::default())));
        let specials: Vec<AddedToken> = self
            .tokens
            .iter()
            .zip(&self.token_types)
            .filter(|(_, ty)| **ty == TOKEN_TYPE_CONTROL)
            .map(|(t, _)| AddedToken::from(t.clone(), true))
            .collect();
        tok.add_special_tokens(&specials);
        let user: Vec<AddedToken> = self
            .tokens
            .iter()
            .zip(&self.token_types)
            .filter(|(_, ty)| **ty == TOKEN_TYPE_USER_DEFINED)
            .map(|(t, _)| AddedToken::from(t.clone(), false))
            .collect();
        if !user.is_empty() {
            tok.add_tokens(&user);
        }
        // User text is never parsed into control tokens: `<|im_end|>` typed by a user stays plain text.
        tok.set_encode_special_tokens(true);
        Ok(tok)
    }
}

/// A chat template split into literal pieces: control tokens by id, plain text, and the prompt slot.
#[derive(Debug, Clone)]
pub struct ChatTemplate {
    pub source: String,
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone)]
enum Piece {
    Special(u32),
    Text(String),
    Prompt,
}

impl ChatTemplate {
    /// Parse `source`, resolving every `<|...|>` marker to a control token of `vocab`.
    pub fn parse(source: &str, vocab: &GgufVocab) -> Result<Self, TokenizerError> {
        let mut pieces = Vec::new();
        let mut rest = source;
        let mut has_prompt = false;
        while !rest.is_empty() {
            let next_special = rest.find("<|");
            let next_prompt = rest.find("{prompt}");
            match (next_special, next_prompt) {
                (Some(s), p) if p.is_none_or(|p| s < p) => {
                    if s > 0 {
                        pieces.push(Piece::Text(rest[..s].to_string()));
                    }
                    let end = rest[s..].find("|>").ok_or_else(|| TokenizerError::Template(rest[s..].into()))?;
                    let name = &rest[s..s + end + 2];
                    let id = vocab
                        .tokens
                        .iter()
                        .zip(&vocab.token_types)
                        .position(|(t, ty)| t == name && *ty == TOKEN_TYPE_CONTROL)
                        .ok_or_else(|| TokenizerError::Template(name.into()))?;
                    pieces.push(Piece::Special(id as u32));
                    rest = &rest[s + end + 2..];
                }
                (_, Some(p)) => {
                    if p > 0 {
                        pieces.push(Piece::Text(rest[..p].to_string()));
                    }
                    pieces.push(Piece::Prompt);
                    has_prompt = true;
                    rest = &rest[p + "{prompt}".len()..];
                }
                (_, None) => {
                    pieces.push(Piece::Text(rest.to_string()));
                    rest = "";
                }
            }
        }
        if !has_prompt {
            return Err(TokenizerError::Template("{prompt}".into()));
        }
        Ok(Self { source: source.to_string(), pieces })
    }

    /// Token ids of the rendered template around `prompt`. Text between control tokens (template text
    /// and prompt together) is encoded as one string, as HF `apply_chat_template` + encode would.
    pub fn encode(&self, tok: &Tokenizer, prompt: &str) -> Result<Vec<u32>, TokenizerError> {
        let mut ids = Vec::new();
        let mut buf = String::new();
        let flush = |buf: &mut String, ids: &mut Vec<u32>| -> Result<(), TokenizerError> {
            if !buf.is_empty() {
                let enc = tok.encode(buf.as_str(), false).map_err(|e| TokenizerError::Lib(e.to_string()))?;
                ids.extend_from_slice(enc.get_ids());
                buf.clear();
            }
            Ok(())
        };
        for p in &self.pieces {
            match p {
                Piece::Special(id) => {
                    flush(&mut buf, &mut ids)?;
                    ids.push(*id);
                }
                Piece::Text(t) => buf.push_str(t),
                Piece::Prompt => buf.push_str(prompt),
            }
        }
        flush(&mut buf, &mut ids)?;
        Ok(ids)
    }
}
