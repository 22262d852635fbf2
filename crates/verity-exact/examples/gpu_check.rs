//! CPU vs CUDA check of the exact profile (scripts/gpu-check.sh runs it): greedy-decodes N prompts × T tokens on
//! the CPU engine and on CUDA at batch 1 and batched, compares every step's logit bits (a 64-bit FNV-1a hash of
//! all of a step's logits), then prints CUDA tok/s at batch 1, 16 and 64 (device argmax, no logit download).
//! Usage: gpu_check MODEL.gguf [prompts (100)] [tokens (128)]. Needs `--features cuda`.
use {
    std::{cell::RefCell, collections::BTreeMap, time::Instant},
    verity_exact::{
        gpu::{decode, Arg, Cuda, DevPtr, Device, Emulator, GpuError, GpuLlama, Kernel, Readback},
        llama::{self, Llama},
        math,
        matmul::Path,
    },
};

/// FNV-1a over the logits' bits.
fn hash(l: &[f32]) -> u64 {
    l.iter()
        .flat_map(|f| f.to_bits().to_le_bytes())
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// `n` prompts of 17 to 96 tokens: SmolLM2's chat template pieces around plain text ids (any llama vocabulary of
/// at least 4,000 ids).
fn prompts(n: usize) -> Vec<Vec<u32>> {
    let base = [1u32, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 2, 198, 1, 4093, 198];
    (0..n as u32)
        .map(|i| {
            base.iter()
                .copied()
                .chain((0..(i * 13) % 76).map(|j| 260 + (37 * j + 101 * i) % 3700))
                .chain([2, 198, 1, 520, 9531, 198])
                .collect()
        })
        .collect()
}

/// Each prompt's per-step logit hashes on the CPU engine, `batch` prompts per forward pass.
fn cpu_hashes(m: &Llama, ps: &[Vec<u32>], steps: usize, batch: usize) -> Vec<Vec<u64>> {
    let mut out = Vec::new();
    for group in ps.chunks(batch) {
        let mut caches: Vec<_> = group.iter().map(|p| m.new_cache(p.len() + steps).expect("cache")).collect();
        let mut hs = vec![Vec::new(); group.len()];
        let mut inputs: Vec<Vec<u32>> = group.to_vec();
        for _ in 0..steps {
            let seqs: Vec<&[u32]> = inputs.iter().map(Vec::as_slice).collect();
            let mut cs: Vec<&mut llama::Cache> = caches.iter_mut().collect();
            let logits = m.forward(&seqs, &mut cs).expect("cpu forward");
            for (i, l) in logits.iter().enumerate() {
                hs[i].push(hash(l));
                inputs[i] = vec![math::argmax_first(l).expect("no NaN") as u32];
            }
        }
        out.extend(hs);
    }
    out
}

/// A device that waits for each launch and adds its time to its kernel's total (for the profile table only: the
/// waits make it slower than the device alone).
struct Profiled<D: Device> {
    dev: D,
    times: RefCell<BTreeMap<&'static str, (usize, f64)>>,
}

impl<D: Device> Device for Profiled<D> {
    fn describe(&self) -> String {
        self.dev.describe()
    }
    fn alloc(&self, bytes: usize) -> Result<DevPtr, GpuError> {
        self.dev.alloc(bytes)
    }
    fn upload(&self, dst: DevPtr, src: &[u8]) -> Result<(), GpuError> {
        self.dev.upload(dst, src)
    }
    fn download(&self, src: DevPtr, dst: &mut [u8]) -> Result<(), GpuError> {
        self.dev.download(src, dst)
    }
    unsafe fn launch(&self, k: Kernel, grid: (u32, u32), block: u32, args: &[Arg]) -> Result<(), GpuError> {
        let t = Instant::now();
        // SAFETY: the caller's contract, passed on.
        unsafe { self.dev.launch(k, grid, block, args) }?;
        self.dev.sync()?;
        let mut m = self.times.borrow_mut();
        let e = m.entry(k.name()).or_insert((0, 0.0));
        e.0 += 1;
        e.1 += t.elapsed().as_secs_f64();
        Ok(())
    }
    fn sync(&self) -> Result<(), GpuError> {
        self.dev.sync()
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let file = args.get(1).expect("usage: gpu_check MODEL.gguf [prompts] [tokens]");
    let n: usize = args.get(2).map_or(100, |s| s.parse().expect("prompts"));
    let steps: usize = args.get(3).map_or(128, |s| s.parse().expect("tokens"));
    let bytes = std::fs::read(file).expect("read model");
    let m = llama::load(&bytes, 512, Path::best()).expect("load");
    let ps = prompts(n);
    let cap = ps.iter().map(Vec::len).max().unwrap_or(0) + steps;
    println!("gpu-check: {file}, {n} prompts of {}..{} tokens x {steps} steps", ps[0].len(), cap - steps);

    let t = Instant::now();
    let cpu = cpu_hashes(&m, &ps, steps, 16);
    let secs = t.elapsed().as_secs_f64();
    let threads = rayon::current_num_threads();
    println!("CPU ({:?}, {threads} threads, batch 16): {:.1} tok/s", m.path(), (n * steps) as f64 / secs);

    // VX_DEVICE=emu runs the same check on the CPU emulator (slow: to try the tool without a GPU).
    if std::env::var("VX_DEVICE").as_deref() == Ok("emu") {
        return run(&m, &ps, &cpu, steps, cap, Emulator::new);
    }
    run(&m, &ps, &cpu, steps, cap, || Cuda::new(0).expect("CUDA device"))
}

fn run<D: Device>(m: &Llama, ps: &[Vec<u32>], cpu: &[Vec<u64>], steps: usize, cap: usize, new: impl Fn() -> D) {
    let n = ps.len();
    let dev = new();
    println!("device: {}", dev.describe());
    let mut g = GpuLlama::new(m, dev, 64, cap, 64 * 96).expect("upload");
    decode(&mut g, &ps[..2], 2, 4, Readback::Tokens, |_, _, _| {}).expect("warm-up");

    let mut all_ok = true;
    let mut gpu = Vec::new();
    for batch in [1usize, 16] {
        let mut hs = vec![Vec::new(); n];
        let t = Instant::now();
        decode(&mut g, ps, batch, steps, Readback::Logits, |i, _, l| hs[i].push(hash(l))).expect("cuda decode");
        let secs = t.elapsed().as_secs_f64();
        let steps_eq: usize = hs.iter().zip(cpu).map(|(a, b)| a.iter().zip(b).filter(|(x, y)| x == y).count()).sum();
        let prompts_eq = hs.iter().zip(cpu).filter(|(a, b)| a == b).count();
        let first_bad = hs.iter().zip(cpu).position(|(a, b)| a != b);
        all_ok &= prompts_eq == n;
        println!(
            "CUDA batch {batch:>2} vs CPU: logit bits equal at {steps_eq}/{} steps, {prompts_eq}/{n} prompts all \
             equal{} ({:.1} tok/s with every logit downloaded)",
            n * steps,
            first_bad.map(|i| format!(", first difference in prompt {i}")).unwrap_or_default(),
            (n * steps) as f64 / secs
        );
        gpu.push(hs);
    }
    let same = gpu[0].iter().zip(&gpu[1]).filter(|(a, b)| a == b).count();
    all_ok &= same == n;
    println!("CUDA batch 1 vs batch 16: {same}/{n} prompts with every step's logit bits equal");

    let speed_ps = prompts(std::env::var("VX_SPEED_PROMPTS").ok().and_then(|v| v.parse().ok()).unwrap_or(128));
    for batch in [1usize, 16, 64] {
        let k = (batch * 2).clamp(8, 128).min(speed_ps.len());
        let t = Instant::now();
        let toks = decode(&mut g, &speed_ps[..k], batch, steps, Readback::Tokens, |_, _, _| {}).expect("speed run");
        let secs = t.elapsed().as_secs_f64();
        let total: usize = toks.iter().map(Vec::len).sum();
        println!(
            "CUDA speed, batch {batch:>2}: {:.0} tok/s aggregate ({k} prompts x {steps} tokens in {secs:.2} s, \
             prefill included)",
            total as f64 / secs
        );
    }
    drop(g);
    // Where the time goes: each launch waited for, per kernel (batch 1 and 64 decode steps).
    let dev = Profiled { dev: new(), times: RefCell::new(BTreeMap::new()) };
    let mut g = GpuLlama::new(m, dev, 64, cap, 64 * 96).expect("upload");
    for batch in [1usize, 64.min(speed_ps.len())] {
        decode(&mut g, &speed_ps[..batch], batch, 2, Readback::Tokens, |_, _, _| {}).expect("prefill");
        g.device().times.borrow_mut().clear();
        let t = Instant::now();
        let ps = steps.min(17);
        decode(&mut g, &speed_ps[..batch], batch, ps, Readback::Tokens, |_, _, _| {}).expect("profile run");
        let wall = t.elapsed().as_secs_f64();
        let times = g.device().times.borrow();
        let sum: f64 = times.values().map(|v| v.1).sum();
        println!("profile, batch {batch}: {ps} steps (1 prefill) in {wall:.3} s, launches waited for {sum:.3} s:");
        for (k, (count, secs)) in times.iter() {
            println!(
                "  {k:<18} {count:>6} launches {:>9.1} us each {:>5.1}%",
                secs / *count as f64 * 1e6,
                secs / sum * 100.0
            );
        }
    }
    println!("result: {}", if all_ok { "CPU == CUDA on every step of every prompt" } else { "MISMATCH" });
    std::process::exit(if all_ok { 0 } else { 1 });
}
