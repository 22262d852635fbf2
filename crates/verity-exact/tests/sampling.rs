//! The seeded sampler (oracle/NUMERICS.md §7): Philox4x32-10 against Random123's known answers, greedy equals
//! `argmax_first`, parameter checks, determinism, top-p edges, empirical frequencies, and the fast nucleus
//! implementation against a naive full sort of the whole vocabulary, bit for bit.
use verity_exact::{
    math,
    sample::{philox4x32_10, sample, uniform, SampleError, Sampling, MAX_TEMPERATURE_MILLI},
};

/// Deterministic pseudo-random numbers (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [lo, hi).
    fn f(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * ((self.next() >> 40) as f32 / 16_777_216.0)
    }

    /// Roughly normal (sum of 4 uniforms, centred), times `scale`: the shape of real logits.
    fn logits(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| ((0..4).map(|_| self.f(-1.0, 1.0)).sum::<f32>()) * scale).collect()
    }
}

fn s(t: u16, p: u16, seed: u64) -> Sampling {
    Sampling { temperature_milli: t, top_p_milli: p, seed }
}

#[test]
fn philox_matches_random123_known_answers() {
    let kat: [([u32; 4], [u32; 2], [u32; 4]); 3] = [
        ([0; 4], [0; 2], [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]),
        ([u32::MAX; 4], [u32::MAX; 2], [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]),
        (
            [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
            [0xa409_3822, 0x299f_31d0],
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1],
        ),
    ];
    for (ctr, key, want) in kat {
        assert_eq!(philox4x32_10(ctr, key), want, "counter {ctr:08x?} key {key:08x?}");
    }
    // uniform() reads word 0 of counter (step, stream lo, stream hi, 0) under key (seed lo, seed hi).
    assert_eq!(uniform(0, 0, 0), (0x6627_e8d5u32 >> 8) as f32 / 16_777_216.0);
    let x = philox4x32_10([5, 0x0302_0100, 0x0706_0504, 0], [0xa409_3822, 0x299f_31d0]);
    assert_eq!(
        uniform(0x299f_31d0_a409_3822, 0x0706_0504_0302_0100, 5).to_bits(),
        ((x[0] >> 8) as f32 * 2f32.powi(-24)).to_bits()
    );
}

#[test]
fn greedy_is_argmax_first() {
    for seed in 0..8 {
        let mut g = Rng(seed);
        let mut x = g.logits(5000, 4.0);
        if seed % 2 == 1 {
            // A tie for the maximum: the first wins.
            let m = x.iter().cloned().fold(f32::MIN, f32::max);
            x[4000] = m;
        }
        let want = math::argmax_first(&x).unwrap();
        for greedy in [Sampling::GREEDY, s(0, 1, 99), s(0, 500, seed)] {
            assert!(greedy.is_greedy());
            for step in 0..4 {
                assert_eq!(sample(&x, &greedy, seed, step), Ok(want), "seed {seed}");
            }
        }
    }
}

#[test]
fn validate_checks_the_bounds() {
    assert_eq!(MAX_TEMPERATURE_MILLI, 2000);
    assert_eq!(Sampling::GREEDY.validate(), Ok(()));
    for ok in [s(0, 1, 0), s(2000, 1000, 1), s(1, 1, 2), s(700, 950, 3)] {
        assert_eq!(ok.validate(), Ok(()), "{ok:?}");
        assert_eq!(sample(&[1.0, 2.0], &ok, 0, 0).map(|t| t < 2), Ok(true));
    }
    assert_eq!(s(2001, 1000, 0).validate(), Err(SampleError::InvalidTemperature(2001)));
    assert_eq!(s(u16::MAX, 1000, 0).validate(), Err(SampleError::InvalidTemperature(u16::MAX)));
    assert_eq!(s(0, 0, 0).validate(), Err(SampleError::InvalidTopP(0)));
    assert_eq!(s(1000, 1001, 0).validate(), Err(SampleError::InvalidTopP(1001)));
    assert_eq!(sample(&[1.0], &s(0, 1001, 0), 0, 0), Err(SampleError::InvalidTopP(1001)));
    assert!(!s(1, 1000, 0).is_greedy());
}

#[test]
fn the_same_inputs_give_the_same_token_and_seeds_spread() {
    let x = Rng(11).logits(49152, 0.5); // flat-ish
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..64u64 {
        let p = s(1000, 1000, seed);
        let t = sample(&x, &p, 42, 3).unwrap();
        assert_eq!(sample(&x, &p, 42, 3), Ok(t));
        seen.insert(t);
    }
    assert!(seen.len() >= 40, "only {} distinct tokens of 64 seeds", seen.len());
    // Steps and streams are independent draws too.
    let by_step: std::collections::BTreeSet<_> =
        (0..32).map(|k| sample(&x, &s(1000, 1000, 1), 42, k).unwrap()).collect();
    let by_stream: std::collections::BTreeSet<_> =
        (0..32).map(|k| sample(&x, &s(1000, 1000, 1), k, 0).unwrap()).collect();
    assert!(by_step.len() >= 20 && by_stream.len() >= 20, "{} {}", by_step.len(), by_stream.len());
}

#[test]
fn top_p_of_one_milli_picks_the_argmax_and_the_lowest_index_on_ties() {
    for seed in 0..6u64 {
        // ≤ 500 entries: the largest probability is at least ~1/500 ≥ 0.001, so the nucleus is one entry.
        let mut x: Vec<f32> = (0..400).map(|i| ((i * 37 + seed as usize * 11) % 101) as f32 * 0.01).collect();
        let top = 250 + seed as usize * 7;
        x[top] = 1.5;
        for t in [1, 700, 1000, 2000] {
            for step in 0..16 {
                assert_eq!(sample(&x, &s(t, 1, seed), 9, step), Ok(top), "T {t}");
            }
        }
        x[100] = 1.5; // tie: the lower index
        for step in 0..16 {
            assert_eq!(sample(&x, &s(2000, 1, seed), 9, step), Ok(100));
        }
    }
}

#[test]
fn a_dominating_logit_at_low_temperature_is_picked() {
    let mut x = Rng(5).logits(151_936, 2.0);
    x[77_777] = 30.0;
    for seed in 0..50 {
        assert_eq!(sample(&x, &s(100, 1000, seed), 1, seed as u32), Ok(77_777));
    }
}

#[test]
fn frequencies_follow_the_probabilities() {
    let want = [0.5f32, 0.3, 0.2];
    let x: Vec<f32> = want.iter().map(|p| p.ln()).collect();
    let mut n = [0u32; 3];
    for step in 0..20_000 {
        n[sample(&x, &s(1000, 1000, 0xfeed), 0x1234, step).unwrap()] += 1;
    }
    for (c, w) in n.iter().zip(want) {
        let f = *c as f32 / 20_000.0;
        assert!((f - w).abs() < 0.02, "frequencies {n:?}");
    }
    // Top-p 0.7: the nucleus is {0.5, 0.3}; renormalised 0.625 / 0.375.
    let mut n = [0u32; 3];
    for step in 0..20_000 {
        n[sample(&x, &s(1000, 700, 0xfeed), 0x1234, step).unwrap()] += 1;
    }
    assert_eq!(n[2], 0);
    assert!((n[0] as f32 / 20_000.0 - 0.625).abs() < 0.02, "{n:?}");
}

/// §7 written plainly: the full sort of every index, sums over the whole list, a linear search.
fn naive_nucleus(x: &[f32], t_milli: u16) -> (Vec<usize>, Vec<f32>) {
    let t = t_milli as f32 / 1000.0;
    let mut p: Vec<f32> = x.iter().map(|v| v / t).collect();
    math::softmax(&mut p);
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[b].partial_cmp(&p[a]).unwrap().then(a.cmp(&b)));
    let mut c = 0f32;
    let cum = order
        .iter()
        .map(|&i| {
            c += p[i];
            c
        })
        .collect();
    (order, cum)
}

fn naive_pick(order: &[usize], cum: &[f32], s: &Sampling, stream: u64, step: u32) -> (usize, usize) {
    let top_p = s.top_p_milli as f32 / 1000.0;
    let m = cum.iter().position(|&c| c >= top_p).map_or(cum.len(), |k| k + 1);
    let r = uniform(s.seed, stream, step) * cum[m - 1];
    let k = cum[..m].iter().position(|&c| c > r).unwrap_or(m - 1);
    (order[k], m)
}

#[test]
fn the_fast_nucleus_equals_a_full_sort() {
    let mut sizes = std::collections::BTreeSet::new();
    let mut checked = 0;
    for (n, scale, gseed) in [(151_936usize, 3.0f32, 1u64), (151_936, 1.0, 2), (49_152, 6.0, 3), (49_152, 0.7, 4)] {
        let mut g = Rng(gseed);
        let x = g.logits(n, scale);
        for t in [1u16, 150, 700, 1000, 1500, 2000] {
            let (order, cum) = naive_nucleus(&x, t);
            for top_p in [1u16, 200, 500, 900, 950, 990, 999, 1000] {
                for k in 0..2u32 {
                    let sp = s(t, top_p, g.next());
                    let stream = g.next();
                    let (want, m) = naive_pick(&order, &cum, &sp, stream, k);
                    assert_eq!(sample(&x, &sp, stream, k), Ok(want), "n {n} scale {scale} {sp:?} nucleus {m}");
                    sizes.insert(match m {
                        0..=64 => 0,
                        65..=1024 => 1,
                        1025..=16384 => 2,
                        _ => 3,
                    });
                    checked += 1;
                }
            }
        }
    }
    // Nuclei of every size: within 64, 1024 and 16384 entries, and beyond.
    assert_eq!(sizes.into_iter().collect::<Vec<_>>(), [0, 1, 2, 3], "after {checked} draws");
}
