//! The crate's scalar reference against golden vectors written by an independent implementation of
//! oracle/NUMERICS.md (`tools/golden.py`: plain Python, binary32 emulated by rounding each binary64 operation
//! once): exp, SiLU, activation quantization, softmax, RMSNorm, the Q4_1 / Q8_0 / Q5_0 / Q4_K / Q6_K block dot
//! products (from GGUF bytes), the RoPE tables and §7's decoding (Philox4x32-10 blocks, uniforms, sampled
//! tokens), every output compared bit for bit.
use verity_exact::{
    ggml, math,
    matmul::dot_reference,
    quant::{quantize_block, QActs, QMatrix},
    sample::{self, Sampling},
};

const GOLDEN: &str = include_str!("data/golden.txt");

fn f(h: &str) -> f32 {
    f32::from_bits(u32::from_str_radix(h, 16).expect("hex f32 bits"))
}

fn floats(field: &str) -> Vec<f32> {
    field.split_whitespace().map(f).collect()
}

fn ints(field: &str) -> Vec<i64> {
    field.split_whitespace().map(|s| s.parse().expect("decimal")).collect()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| if x.is_nan() { 0x7fc0_0000 } else { x.to_bits() }).collect()
}

#[test]
fn the_reference_matches_the_independent_golden_vectors() {
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for (ln, line) in GOLDEN.lines().enumerate() {
        let fields: Vec<&str> = line.split(" | ").collect();
        let kind = fields[0];
        let at = format!("golden.txt line {}: {kind}", ln + 1);
        match kind {
            "exp" | "silu" => {
                let (x, want) = (f(fields[1]), f(fields[2]));
                let got = if kind == "exp" { math::exp(x) } else { math::silu(x) };
                assert_eq!(bits(&[got]), bits(&[want]), "{at}({x:e}): {got:e} vs {want:e}");
            }
            "quant" => {
                let x = floats(fields[1]);
                let ds = fields[2].split_whitespace().collect::<Vec<_>>();
                let mut q = [0i8; 32];
                let (d, sum) = quantize_block(&x, &mut q);
                assert_eq!((d.to_bits(), i64::from(sum)), (f(ds[0]).to_bits(), ds[1].parse().unwrap()), "{at}");
                assert_eq!(q.iter().map(|&v| i64::from(v)).collect::<Vec<_>>(), ints(fields[3]), "{at}");
            }
            "softmax" => {
                let mut v = floats(fields[1]);
                math::softmax(&mut v);
                assert_eq!(bits(&v), bits(&floats(fields[2])), "{at}");
            }
            "rmsnorm" => {
                let (eps, x, g) = (f(fields[1]), floats(fields[2]), floats(fields[3]));
                let mut y = vec![0f32; x.len()];
                math::rms_norm(&x, &g, eps, &mut y);
                assert_eq!(bits(&y), bits(&floats(fields[4])), "{at}");
            }
            "dot q4_1" | "dot q8_0" | "dot q5_0" | "dot q4_k" | "dot q6_k" => {
                let ty = match kind {
                    "dot q4_1" => ggml::GGML_Q4_1,
                    "dot q8_0" => ggml::GGML_Q8_0,
                    "dot q5_0" => ggml::GGML_Q5_0,
                    "dot q4_k" => ggml::GGML_Q4_K,
                    _ => ggml::GGML_Q6_K,
                };
                let nk = ints(fields[1]);
                let (n, k) = (nk[0] as usize, nk[1] as usize);
                let raw: Vec<u8> = ints(fields[2]).into_iter().map(|b| b as u8).collect();
                let w = QMatrix::from_gguf(ty, n, k, &raw).expect("weights");
                let x = QActs::quantize(&floats(fields[3]), 1, k);
                let y: Vec<f32> = (0..n).map(|j| dot_reference(&w, j, &x, 0)).collect();
                assert_eq!(bits(&y), bits(&floats(fields[4])), "{at}");
            }
            "rope" => {
                let head = fields[1].split_whitespace().collect::<Vec<_>>();
                let (base, hd, p) = (f(head[0]), head[1].parse::<usize>().unwrap(), head[2].parse::<usize>().unwrap());
                let (cos, sin) = math::rope_tables(base, hd, p + 1);
                let half = hd / 2;
                assert_eq!(bits(&cos[p * half..]), bits(&floats(fields[2])), "{at} cos at {p}");
                assert_eq!(bits(&sin[p * half..]), bits(&floats(fields[3])), "{at} sin at {p}");
            }
            "philox" => {
                let w: Vec<u32> = fields[1].split_whitespace().map(|h| u32::from_str_radix(h, 16).unwrap()).collect();
                let want: Vec<u32> =
                    fields[2].split_whitespace().map(|h| u32::from_str_radix(h, 16).unwrap()).collect();
                assert_eq!(sample::philox4x32_10([w[0], w[1], w[2], w[3]], [w[4], w[5]])[..], want[..], "{at}");
            }
            "uniform" => {
                let a: Vec<u64> = fields[1].split_whitespace().map(|s| s.parse().unwrap()).collect();
                let got = sample::uniform(a[0], a[1], a[2] as u32);
                assert_eq!(bits(&[got]), bits(&[f(fields[2])]), "{at}");
            }
            "sample" => {
                let a: Vec<u64> = fields[1].split_whitespace().map(|s| s.parse().unwrap()).collect();
                let s = Sampling { temperature_milli: a[0] as u16, top_p_milli: a[1] as u16, seed: a[2] };
                let x = floats(fields[2]);
                let got: Vec<i64> =
                    (0..16).map(|j| sample::sample(&x, &s, a[3], a[4] as u32 + j).unwrap() as i64).collect();
                assert_eq!(got, ints(fields[3]), "{at} {s:?}");
            }
            other => panic!("golden.txt line {}: unknown kind {other:?}", ln + 1),
        }
        *seen.entry(kind).or_default() += 1;
    }
    eprintln!("golden vectors checked: {seen:?}");
    for kind in [
        "exp", "silu", "quant", "softmax", "rmsnorm", "dot q4_1", "dot q8_0", "dot q5_0", "dot q4_k", "dot q6_k",
        "rope", "philox", "uniform", "sample",
    ] {
        assert!(seen.get(kind).copied().unwrap_or(0) >= 1, "no golden vector of kind {kind}");
    }
}
