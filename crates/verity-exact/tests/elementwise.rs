//! The SIMD element-wise steps (Q8 quantization, exp in softmax, SiLU) equal the scalar spec bit for bit, on
//! random values and on every edge the spec names: zeros, NaN, ±∞, subnormals, rounding ties, exp's range limits.
use verity_exact::{
    math,
    matmul::Path,
    quant::{QActs, BLOCK},
};

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|f| f.to_bits()).collect()
}

/// Values every edge of §3 and §5.1 comes from, then pseudo-random ones of every magnitude.
fn values() -> Vec<f32> {
    let mut v = vec![
        0.0,
        -0.0,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MIN_POSITIVE,
        1e-45,
        -1e-45,
        f32::MAX,
        f32::MIN,
        0.5,
        1.5,
        2.5,
        -0.5,
        -2.5,
        127.0,
        -127.0,
        88.722_84,
        88.722_85,
        88.72283,
        -87.336_54,
        -87.336_55,
        -87.33653,
        88.0,
        -87.0,
        f32::from_bits(0x42b1_7218), // just below ln(2^128)
        1.0,
        -1.0,
    ];
    let mut s = 0x2545_f491_4f6c_dd1du64;
    for i in 0..20_000 {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let f = f32::from_bits((s >> 32) as u32);
        // Mix raw bit patterns with values in the ranges the model sees.
        v.push(if i % 3 == 0 { f } else { ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 200.0 });
    }
    while v.len() % BLOCK != 0 {
        v.push(0.25);
    }
    v
}

fn simd_paths() -> Vec<Path> {
    Path::ALL.into_iter().filter(|p| p.supported() && p.simd()).collect()
}

#[test]
fn quantization_is_the_same_bits_on_every_path() {
    let v = values();
    let mut blocks = v.clone();
    // Blocks that are all zero, all NaN, one value among zeros, all subnormal, and exact ties after scaling.
    blocks.extend([0.0f32; BLOCK]);
    blocks.extend([f32::NAN; BLOCK]);
    blocks.extend((0..BLOCK).map(|i| if i == 7 { -3.0 } else { 0.0 }));
    blocks.extend((0..BLOCK).map(|i| f32::from_bits(1 + i as u32)));
    blocks.extend((0..BLOCK).map(|i| (i as f32 - 16.0) * 0.5 / 127.0 * 254.0));
    let rows = blocks.len() / BLOCK;
    let want = QActs::quantize(&blocks, rows, BLOCK);
    for p in simd_paths() {
        let got = QActs::quantize_by(&blocks, rows, BLOCK, p);
        assert_eq!(got.q, want.q, "{p:?} q");
        assert_eq!(got.qsum, want.qsum, "{p:?} Σq");
        assert_eq!(bits(&got.d), bits(&want.d), "{p:?} d");
        assert_eq!(bits(&got.s), bits(&want.s), "{p:?} s");
    }
}

#[test]
fn exp_softmax_and_silu_are_the_same_bits_on_every_path() {
    let v = values();
    let up: Vec<f32> = v.iter().rev().copied().collect();
    let mut want = vec![0f32; v.len()];
    math::silu_mul(&v, &up, &mut want, Path::Reference);
    for (i, w) in want.iter().enumerate() {
        assert_eq!(w.to_bits(), (math::silu(v[i]) * up[i]).to_bits(), "reference silu at {i}");
    }
    for p in simd_paths() {
        // Odd lengths exercise the scalar tails.
        for n in [v.len(), v.len() - 5, 3] {
            let mut got = vec![0f32; n];
            math::silu_mul(&v[..n], &up[..n], &mut got, p);
            assert_eq!(bits(&got), bits(&want[..n]), "{p:?} silu, {n} values");
        }
        for m in [0.0f32, 88.0, -30.0, f32::INFINITY] {
            let mut a: Vec<f32> = v.clone();
            let mut b: Vec<f32> = v.clone();
            a.iter_mut().for_each(|x| *x = math::exp(*x - m));
            // softmax = exp(x - max) / sum; compare its numerators through a slice whose max is m.
            b.push(m);
            math::softmax_by(&mut b, p);
            let mut r = v.clone();
            r.push(m);
            math::softmax(&mut r);
            assert_eq!(bits(&b), bits(&r), "{p:?} softmax with max {m}");
            assert!(a.iter().any(|x| x.is_finite()), "the sweep reaches finite values");
        }
    }
}
