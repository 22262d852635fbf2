//! Cost of one `sample::sample` call on a 151 936-entry vocabulary (Qwen2.5's) next to `math::argmax_first` (the
//! greedy token) in the same run: `cargo run --release --example sample_speed -p verity-exact`.
use std::time::Instant;
use verity_exact::{
    math,
    sample::{sample, Sampling},
};

/// Seconds of the fastest call of `f` in 0.5 s (the least disturbed by other work on the machine).
fn time(mut f: impl FnMut(u32) -> usize) -> f64 {
    let (t, mut it, mut acc, mut best) = (Instant::now(), 0u32, 0usize, f64::MAX);
    while t.elapsed().as_secs_f64() < 0.5 {
        let t1 = Instant::now();
        acc = acc.wrapping_add(f(it));
        best = best.min(t1.elapsed().as_secs_f64());
        it += 1;
    }
    std::hint::black_box(acc);
    best
}

fn main() {
    // Logit-like values: roughly normal (sum of four hashed uniforms), spread ±8 or so.
    let h = |i: u64| ((i.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40) as f32 / 16_777_216.0) * 2.0 - 1.0;
    let x: Vec<f32> = (0..151_936u64).map(|i| (0..4).map(|k| h(4 * i + k + 1)).sum::<f32>() * 2.5).collect();
    // As a language model's usually are: a few dozen tokens far above the rest (a small nucleus).
    let mut peaked = x.clone();
    (0..40).for_each(|k| peaked[k * 3797] += 12.0 - k as f32 * 0.25);
    let greedy = time(|_| math::argmax_first(&x).unwrap_or(0));
    println!("vocab {}: argmax_first {:8.0} ns", x.len(), greedy * 1e9);
    for (t, p, logits, what) in
        [(700u16, 950u16, &x, "broad"), (1000, 1000, &x, "broad"), (700, 950, &peaked, "peaked")]
    {
        let s = Sampling { temperature_milli: t, top_p_milli: p, seed: 0x5eed };
        let ns = time(|step| sample(logits, &s, 7, step).unwrap_or(0));
        println!("sample T={t:4} P={p:4} {what:6}: {:8.0} ns ({:.1}x argmax_first)", ns * 1e9, ns / greedy);
    }
}
