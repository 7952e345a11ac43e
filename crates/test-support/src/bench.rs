//! What every benchmark needs: its settings from the environment, a median, the
//! process's memory as the kernel counts it, and its processes on chosen cores.

use std::ffi::OsStr;
use std::process::Command;
use std::time::Duration;

/// A command for `program`, run on the CPUs the environment variable `cpus_var` lists
/// (`taskset -c 1`) when it is set: the benchmarks' server on one core and its client on
/// the other, as a remote server's CPU is not the client's (`BENCH_SERVER_CPUS=0
/// BENCH_CLIENT_CPUS=1`).
pub fn pinned(program: impl AsRef<OsStr>, cpus_var: &str) -> Command {
    match std::env::var(cpus_var) {
        Ok(cpus) if !cpus.trim().is_empty() => {
            let mut command = Command::new("taskset");
            command.args(["-c", cpus.trim()]).arg(program);
            command
        }
        _ => Command::new(program),
    }
}

/// The number in environment variable `name`, or `default` when it is unset or not a
/// number.
pub fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// The median of `samples` (sorting them), in seconds; panics on none.
pub fn median(samples: &mut [f64]) -> f64 {
    assert!(!samples.is_empty(), "a median needs at least one sample");
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The median of `samples` (sorting them); panics on none.
pub fn median_duration(samples: &mut [Duration]) -> Duration {
    assert!(!samples.is_empty(), "a median needs at least one sample");
    samples.sort();
    samples[samples.len() / 2]
}

/// A figure of this process's `/proc/self/status` in KiB (`VmRSS`, `VmHWM`…); 0 where
/// there is no procfs.
pub fn proc_status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix(key)?
                    .trim_start_matches(':')
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .ok()
            })
        })
        .unwrap_or(0)
}

/// `100001` → `100,001`.
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_is_the_middle_sample_after_sorting() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(
            median_duration(&mut [Duration::from_millis(9), Duration::from_millis(1)]),
            Duration::from_millis(9),
            "the upper middle of an even count"
        );
    }

    #[test]
    fn group_puts_a_comma_every_three_digits() {
        assert_eq!(group(100_001), "100,001");
        assert_eq!(group(999), "999");
        assert_eq!(group(1_000_000), "1,000,000");
    }

    #[test]
    fn the_resident_set_of_a_running_process_is_counted() {
        if std::path::Path::new("/proc/self/status").exists() {
            assert!(proc_status_kib("VmRSS") > 0, "a running process has pages");
        }
        assert_eq!(proc_status_kib("NoSuchKey"), 0);
    }
}
