//! Seeded, bit-exact token sampling (oracle/NUMERICS.md §7): greedy at temperature 0, else temperature, top-p
//! (nucleus) and one Philox4x32-10 uniform per (request, step), every step a fixed sequence of f32 operations.
//! Finding the nucleus without sorting the whole vocabulary (a histogram picks the candidates, a prefix of the
//! order; a radix sort when they are too many) is an implementation choice for speed: the text defines the bits,
//! and the result equals sorting everything (tested).

use crate::{math, matmul::Path};
use std::cell::RefCell;

/// Per-request sampling parameters (on-chain in the Request; milli-units so they are integers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Sampling {
    /// Temperature × 1000; 0 is greedy.
    pub temperature_milli: u16,
    /// Nucleus mass × 1000, in 1..=1000.
    pub top_p_milli: u16,
    /// The request's random seed.
    pub seed: u64,
}

/// The largest accepted `temperature_milli` (temperature 2.0).
pub const MAX_TEMPERATURE_MILLI: u16 = 2000;

impl Sampling {
    /// Greedy decoding (the first maximum logit).
    pub const GREEDY: Sampling = Sampling { temperature_milli: 0, top_p_milli: 1000, seed: 0 };

    /// Whether this is greedy decoding (temperature 0).
    pub fn is_greedy(&self) -> bool {
        self.temperature_milli == 0
    }

    /// Ok when `temperature_milli <= 2000` and `1 <= top_p_milli <= 1000` (top_p is ignored but still checked
    /// when greedy).
    pub fn validate(&self) -> Result<(), SampleError> {
        if self.temperature_milli > MAX_TEMPERATURE_MILLI {
            return Err(SampleError::InvalidTemperature(self.temperature_milli));
        }
        if !(1..=1000).contains(&self.top_p_milli) {
            return Err(SampleError::InvalidTopP(self.top_p_milli));
        }
        Ok(())
    }
}

/// Why no token was drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SampleError {
    #[error("temperature_milli {0} is above {MAX_TEMPERATURE_MILLI}")]
    InvalidTemperature(u16),
    #[error("top_p_milli {0} is not in 1..=1000")]
    InvalidTopP(u16),
    #[error("a logit (or, when sampling, a probability) is NaN")]
    NanLogit,
    #[error("no logits")]
    Empty,
}

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

#[inline(always)]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = u64::from(a) * u64::from(b);
    ((p >> 32) as u32, p as u32)
}

/// Philox4x32-10 (Salmon et al. 2011, Random123), the standard constants: M0=0xD2511F53, M1=0xCD9E8D57,
/// W0=0x9E3779B9, W1=0xBB67AE85, 10 rounds, key bumped after each round except the last (as Random123's
/// philox4x32_R(10,...)).
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (mut c, mut k) = (counter, key);
    for round in 0..10 {
        if round > 0 {
            k = [k[0].wrapping_add(W0), k[1].wrapping_add(W1)];
        }
        let (hi0, lo0) = mulhilo(M0, c[0]);
        let (hi1, lo1) = mulhilo(M1, c[2]);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

/// The uniform of step `step` of the request stream `stream`: key = (seed lo32, seed hi32), counter = (step,
/// stream lo32, stream hi32, 0); u = (x0 >> 8) as f32 * 2^-24 (exact, in [0,1)).
pub fn uniform(seed: u64, stream: u64, step: u32) -> f32 {
    let x = philox4x32_10([step, stream as u32, (stream >> 32) as u32, 0], [seed as u32, (seed >> 32) as u32]);
    (x[0] >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// The next token: greedy (argmax_first) when temperature is 0; else the rule below. `stream` identifies the
/// request (the node passes the first 8 bytes of the Request account's pubkey, little-endian), `step` is the
/// 0-based index of the generated token.
///
/// NUMERICS.md §7: `t = f32(T) / 1000`, `y_i = x_i / t`, `p = softmax(y)`; indices ordered by (`p_i`
/// descending, `i` ascending); `c_0 = +0 + p_(0)`, `c_k = c_{k−1} + p_(k)`; the nucleus is the shortest prefix
/// with `c_k >= P` (`P = f32(top_p_milli) / 1000`), else everything; `r = u × S` (`S` its last `c`); the token is
/// the first member with `c_k > r`, else the last.
pub fn sample(logits: &[f32], s: &Sampling, stream: u64, step: u32) -> Result<usize, SampleError> {
    s.validate()?;
    if logits.is_empty() {
        return Err(SampleError::Empty);
    }
    if s.is_greedy() {
        return math::argmax_first(logits).ok_or(SampleError::NanLogit);
    }
    // Reused buffers (a vocabulary's worth each): fresh ones per token would cost page faults.
    thread_local!(static SCRATCH: RefCell<Scratch> = RefCell::default());
    let draw = |b: &mut Scratch| draw(logits, s, stream, step, b);
    SCRATCH
        .try_with(|c| c.try_borrow_mut().map(|mut b| draw(&mut b)).unwrap_or_else(|_| draw(&mut Scratch::default())))
        .unwrap_or_else(|_| draw(&mut Scratch::default()))
}

/// Working memory of [`sample`]: `y` then `p`, sort keys, the radix sort's second buffer, the sums `c_k`.
#[derive(Default)]
struct Scratch {
    p: Vec<f32>,
    keys: Vec<u64>,
    tmp: Vec<u64>,
    cum: Vec<f32>,
}

/// [`sample`] at temperature > 0 on valid parameters.
fn draw(logits: &[f32], s: &Sampling, stream: u64, step: u32, b: &mut Scratch) -> Result<usize, SampleError> {
    let t = f32::from(s.temperature_milli) / 1000.0;
    b.p.clear();
    b.p.extend(logits.iter().map(|&x| x / t));
    if b.p.iter().fold(false, |nan, v| nan | v.is_nan()) {
        return Err(SampleError::NanLogit);
    }
    // Every path gives the reference's bits (tests/elementwise.rs); the SIMD exp only makes it faster.
    math::softmax_by(&mut b.p, Path::best());
    let top_p = f32::from(s.top_p_milli) / 1000.0;
    let m = nucleus(top_p, CANDIDATES, b)?;
    let (Some(&last), Some(&sum)) = (b.keys[..m].last(), b.cum[..m].last()) else {
        return Err(SampleError::Empty);
    };
    let r = uniform(s.seed, stream, step) * sum;
    let k = b.cum[..m].iter().position(|&c| c > r).and_then(|k| b.keys.get(k).copied()).unwrap_or(last);
    Ok((k & 0xffff_ffff) as usize)
}

/// The sort key of index `i` with probability `p` (in [+0, 1]): ascending keys are (`p` descending, `i`
/// ascending), as the bits of a non-negative f32 increase with its value. Vocabularies are far below 2^32.
#[inline(always)]
fn key(i: usize, p: f32) -> u64 {
    (u64::from(!p.to_bits()) << 32) | (i as u64 & 0xffff_ffff)
}

/// The probability in a [`key`].
#[inline(always)]
fn key_p(k: u64) -> f32 {
    f32::from_bits(!((k >> 32) as u32))
}

/// Nuclei within this many candidates are found by one filtering pass and a comparison sort of the candidates;
/// larger ones by a radix sort of the whole vocabulary.
const CANDIDATES: usize = 16384;

/// The nucleus of `b.p` (a softmax: every value in [+0, 1], else NaN) for mass `top_p`: its size `m`, with its
/// members' keys in order in `b.keys[..m]` and their sums `c_k` in `b.cum[..m]`. The candidates, the indices
/// whose `p` has its top 10 bits at or above a bucket chosen from a histogram, are a prefix of the total order
/// (every other `p` is smaller), so their sorted sums are the first `c_k` of the full sort; when those miss
/// `top_p` (too many candidates, or rounding), the whole vocabulary is radix-sorted. Either way the bits are
/// those of sorting everything.
fn nucleus(top_p: f32, limit: usize, b: &mut Scratch) -> Result<usize, SampleError> {
    let mut top = [0u32; 1024];
    for &v in &b.p {
        let bits = v.to_bits();
        if bits >= 1 << 30 {
            // NaN (a y_i of +∞ gives exp(∞ − ∞), every y_i = −∞ gives exp(−∞ + ∞)): no token.
            return Err(SampleError::NanLogit);
        }
        top[(bits >> 20) as usize] += 1;
    }
    // The fewest top buckets whose mass is surely ≥ top_p (each p is at least its bucket's lowest value).
    let (mut d, mut count, mut mass) = (top.len(), 0usize, 0f64);
    while d > 0 && mass < f64::from(top_p) {
        d -= 1;
        count += top[d] as usize;
        mass += f64::from(top[d]) * f64::from(f32::from_bits((d as u32) << 20));
    }
    b.keys.clear();
    if count <= limit {
        let lo = (d as u32) << 20;
        b.keys.extend(b.p.iter().enumerate().filter(|(_, v)| v.to_bits() >= lo).map(|(i, &v)| key(i, v)));
        b.keys.sort_unstable();
        if let Some(m) = accumulate(&b.keys, top_p, b.keys.len() == b.p.len(), &mut b.cum) {
            return Ok(m);
        }
        b.keys.clear();
    }
    b.keys.extend(b.p.iter().enumerate().map(|(i, &v)| key(i, v)));
    radix_sort(&mut b.keys, &mut b.tmp);
    Ok(accumulate(&b.keys, top_p, true, &mut b.cum).unwrap_or(0))
}

/// `c_0 = +0 + p_(0)`, `c_k = c_{k−1} + p_(k)` over sorted `keys` into `cum`, up to the first `c_k >= top_p`:
/// their number; all of them if none reaches it and `keys` is the whole list, else None.
fn accumulate(keys: &[u64], top_p: f32, whole: bool, cum: &mut Vec<f32>) -> Option<usize> {
    cum.clear();
    let mut c = 0f32;
    for &k in keys {
        c += key_p(k);
        cum.push(c);
        if c >= top_p {
            return Some(cum.len());
        }
    }
    whole.then_some(cum.len())
}

/// `keys` (made in increasing index order) in ascending order: a stable LSD radix sort on the 30 bits of `!p`
/// that vary (p ≤ 1 leaves its two top bits 0), so equal `p` keep increasing indices.
fn radix_sort(keys: &mut Vec<u64>, tmp: &mut Vec<u64>) {
    let mut hist = [[0u32; 1024]; 3];
    for &k in keys.iter() {
        for (d, h) in hist.iter_mut().enumerate() {
            h[((k >> (32 + 10 * d)) & 1023) as usize] += 1;
        }
    }
    tmp.resize(keys.len(), 0); // every element is written below
    for (d, h) in hist.iter_mut().enumerate() {
        let mut at = 0;
        for c in h.iter_mut() {
            (*c, at) = (at, at + *c);
        }
        for &k in keys.iter() {
            let b = ((k >> (32 + 10 * d)) & 1023) as usize;
            tmp[h[b] as usize] = k;
            h[b] += 1;
        }
        std::mem::swap(keys, tmp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_order_by_probability_descending_then_index_ascending() {
        let mut k = [key(3, 0.25), key(0, 0.5), key(1, 0.25), key(2, 0.0), key(4, 1e-45)];
        k.sort_unstable();
        let order: Vec<u64> = k.iter().map(|k| k & 0xffff_ffff).collect();
        assert_eq!(order, [0, 1, 3, 4, 2]);
    }

    /// The nucleus by sorting everything, as §7 reads.
    fn full_sort(p: &[f32], top_p: f32) -> (Vec<u32>, Vec<u32>) {
        let mut order: Vec<u32> = (0..p.len() as u32).collect();
        order.sort_by(|&a, &b| p[b as usize].partial_cmp(&p[a as usize]).unwrap().then(a.cmp(&b)));
        let mut c = 0f32;
        let cum: Vec<f32> = order
            .iter()
            .map(|&i| {
                c += p[i as usize];
                c
            })
            .collect();
        let m = cum.iter().position(|&c| c >= top_p).map_or(cum.len(), |k| k + 1);
        (order[..m].to_vec(), cum[..m].iter().map(|c| c.to_bits()).collect())
    }

    #[test]
    fn the_nucleus_equals_the_fully_sorted_prefix_by_either_path() {
        // Zipf-like p over 20 000 shuffled entries (rank r ∝ 1/(r+1)), with ties: nuclei of every size.
        let mut p = vec![0f32; 20_000];
        for r in 0..20_000 {
            p[r * 7919 % 20_000] = -(((r + 2) / 2 * 2) as f32).ln();
        }
        math::softmax(&mut p);
        // 0.5 then values that round away (0.5 + 2^-25 ties to 0.5): the candidates' mass reaches top_p, their
        // f32 sums never do, so the radix path must take over.
        let mut q = vec![0.5f32];
        q.extend(std::iter::repeat_n(f32::from_bits(0x3300_0000), 3000)); // 2^-25
        q.extend(std::iter::repeat_n(1e-9, 500));
        let mut sizes = Vec::new();
        for (v, top_p) in [(&p, 1e-6), (&p, 0.1), (&p, 0.3), (&p, 0.6), (&p, 0.9), (&p, 0.99), (&p, 0.999), (&p, 1.0)]
            .into_iter()
            .chain([(&q, 0.5), (&q, 0.500_001), (&q, 1.0)])
        {
            let want = full_sort(v, top_p);
            for limit in [0, 64, CANDIDATES, usize::MAX] {
                let mut b = Scratch { p: v.clone(), ..Scratch::default() };
                let m = nucleus(top_p, limit, &mut b).unwrap();
                let order: Vec<u32> = b.keys[..m].iter().map(|&k| k as u32).collect();
                let cum = &b.cum[..m];
                assert_eq!((order, cum.iter().map(|c| c.to_bits()).collect()), want, "P {top_p} limit {limit}");
            }
            sizes.push(want.0.len());
        }
        assert!(sizes[..8].iter().any(|&m| m < 64) && sizes[..8].iter().any(|&m| m > 1024), "{sizes:?}");
        assert_eq!(sizes[8..], [1, 3501, 3501]);
    }

    #[test]
    fn uniform_is_the_top_24_bits_of_the_first_word() {
        for (seed, stream, step) in [(0u64, 0u64, 0u32), (1, 2, 3), (u64::MAX, 0x1234_5678_9abc_def0, u32::MAX)] {
            let x = philox4x32_10([step, stream as u32, (stream >> 32) as u32, 0], [seed as u32, (seed >> 32) as u32]);
            let u = uniform(seed, stream, step);
            assert!((0.0..1.0).contains(&u));
            assert_eq!((u * 16_777_216.0) as u32, x[0] >> 8);
        }
        assert_ne!(uniform(1, 0, 0), uniform(0, 1, 0));
        assert_ne!(uniform(0, 1 << 32, 0), uniform(0, 1, 0));
    }

    #[test]
    fn errors_name_their_cause() {
        let s = Sampling { temperature_milli: 1000, top_p_milli: 1000, seed: 7 };
        assert_eq!(sample(&[], &s, 0, 0), Err(SampleError::Empty));
        assert_eq!(sample(&[], &Sampling::GREEDY, 0, 0), Err(SampleError::Empty));
        assert_eq!(sample(&[1.0, f32::NAN], &s, 0, 0), Err(SampleError::NanLogit));
        assert_eq!(sample(&[1.0, f32::NAN], &Sampling::GREEDY, 0, 0), Err(SampleError::NanLogit));
        assert_eq!(sample(&[1.0, f32::INFINITY], &s, 0, 0), Err(SampleError::NanLogit));
        assert_eq!(sample(&[f32::NEG_INFINITY; 3], &s, 0, 0), Err(SampleError::NanLogit));
        assert_eq!(sample(&[1.0, f32::INFINITY], &Sampling::GREEDY, 0, 0), Ok(1));
        assert_eq!(sample(&[0.0, f32::NEG_INFINITY, 0.0], &s, 0, 0).map(|t| t != 1), Ok(true));
        let bad = Sampling { temperature_milli: 2001, ..s };
        assert_eq!(sample(&[1.0], &bad, 0, 0), Err(SampleError::InvalidTemperature(2001)));
        assert_eq!(SampleError::InvalidTopP(0).to_string(), "top_p_milli 0 is not in 1..=1000");
    }
}
