//! Qwen2.5-Coder plumbing on the real 0.5B GGUF (skipped with a notice when it is not fetched): the `qwen2`
//! tokenizer gives llama.cpp's ids (tests/data/qwen2_tokens.txt, from oracle/tools/qwen2_tokens.py), the chat
//! template renders to llama.cpp's ids, and candle's dtypes refuse qwen2 with a clear error.

mod common;

use candle_core::quantized::gguf_file::Content;
use verity_oracle::inference::registry::QWEN25_CODER_05B;
use verity_oracle::inference::tokenizer::{ChatTemplate, GgufVocab};
use verity_oracle::inference::{load, Dtype, LoadError};

/// (text or chat prompt, is_chat, expected ids) from the data file.
fn cases() -> Vec<(String, bool, Vec<u32>)> {
    let text = include_str!("data/qwen2_tokens.txt");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("one JSON object per line");
            let ids = v["ids"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect();
            match (v["text"].as_str(), v["chat"].as_str()) {
                (Some(t), _) => (t.to_string(), false, ids),
                (None, Some(c)) => (c.to_string(), true, ids),
                _ => panic!("line without text or chat: {l}"),
            }
        })
        .collect()
}

fn vocab(path: &std::path::Path) -> GgufVocab {
    let mut f = std::fs::File::open(path).unwrap();
    let ct = Content::read(&mut f).unwrap();
    GgufVocab::from_gguf(&ct).unwrap()
}

#[test]
fn qwen2_tokenizer_and_template_match_llama_cpp() {
    let Some(path) = common::qwen05_path() else { return };
    let vocab = vocab(&path);
    assert_eq!(vocab.pre, "qwen2");
    let tok = vocab.build().unwrap();
    let template = ChatTemplate::parse(QWEN25_CODER_05B.chat_template, &vocab).unwrap();
    let cases = cases();
    assert!(cases.len() >= 8 && cases.iter().any(|c| c.1), "data file has the texts and the chat line");
    for (text, chat, want) in cases {
        let got = if chat {
            template.encode(&tok, &text).unwrap()
        } else {
            let ids = tok.encode(text.as_str(), false).unwrap().get_ids().to_vec();
            assert_eq!(tok.decode(&ids, false).unwrap(), text, "decode round-trips {text:?}");
            ids
        };
        assert_eq!(got, want, "token ids of {text:?} (chat: {chat})");
    }
}

#[test]
fn qwen2_under_candle_dtypes_is_a_clear_error() {
    let Some(path) = common::qwen05_path() else { return };
    for dtype in [Dtype::F32, Dtype::Q4_1] {
        let err =
            load(&QWEN25_CODER_05B, &path, dtype, verity_oracle::inference::DeviceSpec::Cpu).err().expect("refused");
        assert!(matches!(&err, LoadError::NeedsExact { arch } if arch == "qwen2"), "{err:?}");
        assert!(err.to_string().contains("qwen2 is served by the exact profile only; use --dtype exact"), "{err}");
    }
}
