//! Greedy decoding of many prompts on a [`GpuLlama`] under continuous batching: up to `batch` sequences run per
//! step; a finished one leaves and the next prompt joins in the same step as the others' decode tokens (its
//! prompt prefilled at once). What the GPU check and the tests drive.
use super::{Device, GpuError, GpuLlama, Slot};
use crate::{llama::Llama, math};

/// What each step returns: every logit (downloaded, for bit comparisons) or only the greedy token (the device's
/// argmax: the speed runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readback {
    Logits,
    Tokens,
}

/// Decodes `steps` greedy tokens after each prompt, `batch` sequences at a time (prompt `i` joins when a slot
/// frees, in prompt order). `on_step(prompt, step, logits)` sees every step's logits with [`Readback::Logits`].
/// Returns each prompt's tokens.
pub fn decode<D: Device>(
    g: &mut GpuLlama<D>,
    prompts: &[Vec<u32>],
    batch: usize,
    steps: usize,
    readback: Readback,
    on_step: impl FnMut(usize, usize, &[f32]),
) -> Result<Vec<Vec<u32>>, GpuError> {
    let mut live: Vec<(usize, Slot)> = Vec::new();
    let out = run(g, prompts, batch, steps, readback, on_step, &mut live);
    // On an error the sequences still running leave too: their slots are free again.
    for (_, s) in live {
        g.close(s);
    }
    out
}

fn run<D: Device>(
    g: &mut GpuLlama<D>,
    prompts: &[Vec<u32>],
    batch: usize,
    steps: usize,
    readback: Readback,
    mut on_step: impl FnMut(usize, usize, &[f32]),
    live: &mut Vec<(usize, Slot)>,
) -> Result<Vec<Vec<u32>>, GpuError> {
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); prompts.len()];
    let mut next = 0;
    loop {
        while live.len() < batch.max(1) && next < prompts.len() {
            let s = g.open().ok_or(GpuError::NoSlot)?;
            live.push((next, s));
            next += 1;
        }
        if live.is_empty() {
            return Ok(out);
        }
        let inputs: Vec<(Slot, Vec<u32>)> =
            live.iter().map(|&(i, s)| (s, out[i].last().map_or_else(|| prompts[i].clone(), |&t| vec![t]))).collect();
        let seqs: Vec<(Slot, &[u32])> = inputs.iter().map(|(s, t)| (*s, t.as_slice())).collect();
        let toks = match readback {
            Readback::Tokens => g.forward_greedy(&seqs)?,
            Readback::Logits => {
                let logits = g.forward(&seqs)?;
                let mut toks = Vec::with_capacity(logits.len());
                for (&(i, _), l) in live.iter().zip(&logits) {
                    on_step(i, out[i].len(), l);
                    toks.push(math::argmax_first(l).ok_or(GpuError::NaN)? as u32);
                }
                toks
            }
        };
        for (&(i, _), t) in live.iter().zip(toks) {
            out[i].push(t);
        }
        live.retain(|&(i, s)| {
            let done = out[i].len() >= steps;
            if done {
                g.close(s);
            }
            !done
        });
    }
}

/// Before a device serves the exact profile: a 140-token prompt batched with a 24-token one, `steps` greedy tokens
/// each, on the device and on the CPU engine `cpu` (the same model), every logit compared bit for bit (past 128
/// positions, so attention spans more than one block of positions). Returns the steps compared; a difference is
/// [`GpuError::Mismatch`] (a device, driver or build that does not compute the spec must not answer requests).
/// A sample, not a proof: scripts/gpu-check.sh is the full check.
pub fn self_check<D: Device>(g: &mut GpuLlama<D>, cpu: &Llama, steps: usize) -> Result<usize, GpuError> {
    let vocab = cpu.cfg.vocab as u32;
    let prompts: Vec<Vec<u32>> =
        [140u32, 24].iter().map(|&n| (0..n).map(|i| (1 + 7919 * i + n) % vocab).collect()).collect();
    let mut want = Vec::new();
    for p in &prompts {
        let mut cache = cpu.new_cache(p.len() + steps)?;
        let (mut input, mut ls) = (p.clone(), Vec::with_capacity(steps));
        for _ in 0..steps {
            let l = cpu.forward(&[&input], &mut [&mut cache])?.remove(0);
            input = vec![math::argmax_first(&l).ok_or(GpuError::NaN)? as u32];
            ls.push(l);
        }
        want.push(ls);
    }
    let mut bad = None;
    decode(g, &prompts, 2, steps, Readback::Logits, |i, step, l| {
        let w = &want[i][step];
        let same = l.len() == w.len() && l.iter().zip(w).all(|(a, b)| a.to_bits() == b.to_bits());
        if !same && bad.is_none() {
            bad = Some(step);
        }
    })?;
    match bad {
        Some(step) => Err(GpuError::Mismatch { step }),
        None => Ok(steps * prompts.len()),
    }
}
