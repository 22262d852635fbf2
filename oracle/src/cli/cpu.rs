//! CPU seconds of this process by part, from Linux's `/proc/self/task/*/stat`: the validator's threads (Agave
//! and its dependencies name theirs: `sol…`, `agave…`, `rocksdb:…`, …) and the rest (the nodes, their engine, the
//! wallet). A thread that already exited only counts in the process total (`/proc/self/stat`), so "rest" is the
//! total minus the live validator threads.
use std::fs;

/// Thread-name prefixes of the in-process validator's threads.
const VALIDATOR_THREADS: &[&str] = &["sol", "agave", "rocksdb", "bls", "tpu", "quic", "gossip"];

/// CPU seconds (user + system) so far.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CpuTimes {
    /// The whole process, exited threads included.
    pub total: f64,
    /// The validator's live threads.
    pub validator: f64,
}

impl CpuTimes {
    /// Now; zeros where `/proc` cannot be read (not Linux).
    pub fn sample() -> CpuTimes {
        let tick = clock_tick();
        let total = fs::read_to_string("/proc/self/stat").ok().and_then(|s| busy_ticks(&s)).unwrap_or(0) as f64 / tick;
        let mut validator = 0u64;
        for task in fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
            let Ok(stat) = fs::read_to_string(task.path().join("stat")) else { continue };
            if thread_name(&stat).is_some_and(|n| VALIDATOR_THREADS.iter().any(|p| n.starts_with(p))) {
                validator += busy_ticks(&stat).unwrap_or(0);
            }
        }
        CpuTimes { total, validator: validator as f64 / tick }
    }

    /// The CPU seconds spent since `earlier`.
    pub fn since(&self, earlier: &CpuTimes) -> CpuTimes {
        CpuTimes { total: self.total - earlier.total, validator: self.validator - earlier.validator }
    }

    /// Everything but the validator.
    pub fn rest(&self) -> f64 {
        (self.total - self.validator).max(0.0)
    }
}

/// The `comm` field of a stat line (between the first `(` and the last `)`).
fn thread_name(stat: &str) -> Option<&str> {
    Some(&stat[stat.find('(')? + 1..stat.rfind(')')?])
}

/// utime + stime (fields 14 and 15) of a stat line, in clock ticks.
fn busy_ticks(stat: &str) -> Option<u64> {
    let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

fn clock_tick() -> f64 {
    // SAFETY: sysconf only reads a system constant.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_with_spaces_and_the_busy_fields() {
        let stat = "4242 (solPoh Tick) S 1 2 3 4 5 6 7 8 9 10 150 25 0 0 20 0 1 0 100 0 0";
        assert_eq!(thread_name(stat), Some("solPoh Tick"));
        assert_eq!(busy_ticks(stat), Some(175));
    }

    #[test]
    fn busy_work_shows_up_in_the_process_total() {
        let (start, t0) = (CpuTimes::sample(), std::time::Instant::now());
        let mut x = 0u64;
        let mut now = start;
        while now.total < start.total + 0.05 && t0.elapsed() < std::time::Duration::from_secs(10) {
            for i in 0..1_000_000u64 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
            now = CpuTimes::sample();
        }
        assert!(now.total >= start.total + 0.05, "{start:?} -> {now:?} ({x})");
        assert!(now.validator <= now.total, "{now:?}");
    }
}
