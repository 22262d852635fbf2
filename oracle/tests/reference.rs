//! Cross-check: the engine's own llama forward pass against candle-transformers' `quantized_llama`.

mod common;

use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_llama::ModelWeights;
use verity_oracle::inference::model::argmax_first;
use verity_oracle::inference::Dtype;

/// Greedy tokens from candle-transformers' reference implementation (native quantized weights).
fn reference_tokens(prompt_ids: &[u32], n: usize) -> Vec<u32> {
    let path = common::model_path();
    let mut f = std::fs::File::open(&path).unwrap();
    let ct = candle_core::quantized::gguf_file::Content::read(&mut f).unwrap();
    let mut m = ModelWeights::from_gguf(ct, &mut f, &Device::Cpu).unwrap();
    let mut out = Vec::new();
    let input = Tensor::new(prompt_ids, &Device::Cpu).unwrap().unsqueeze(0).unwrap();
    let mut logits = m.forward(&input, 0).unwrap();
    for i in 0..n {
        let l: Vec<f32> = logits.squeeze(0).unwrap().to_vec1().unwrap();
        let t = argmax_first(&l).unwrap();
        out.push(t);
        let input = Tensor::new(&[t], &Device::Cpu).unwrap().unsqueeze(0).unwrap();
        logits = m.forward(&input, prompt_ids.len() + i).unwrap();
    }
    out
}

#[test]
fn q4_1_profile_matches_candle_transformers_reference() {
    let loaded = common::load_model(Dtype::Q4_1);
    let ids = loaded.template.encode(&loaded.tokenizer, "What is the capital of France?").unwrap();
    let want = reference_tokens(&ids, 8);
    let mut cache = loaded.model.new_cache(256).unwrap();
    let mut got = vec![argmax_first(&loaded.model.prefill(&ids, &mut cache).unwrap()).unwrap()];
    while got.len() < want.len() {
        let last = *got.last().unwrap();
        let l = loaded.model.decode(&[last], &mut [&mut cache]).unwrap();
        got.push(argmax_first(&l[0]).unwrap());
    }
    eprintln!(
        "reference: {:?}\n     ours: {:?}",
        loaded.tokenizer.decode(&want, false),
        loaded.tokenizer.decode(&got, false)
    );
    assert_eq!(got, want);
}
