//! Phase timings, for proctor's developers: with `PROCTOR_PHASES=1` in the environment,
//! each [`mark`] prints on stderr the wall time since the first mark and since the one
//! before, the process's CPU time (all threads, user and system) since the one before and
//! its resident memory, then the phase's name. Without it, a mark costs one atomic load.
//!
//! `proctor check` marks the ends of its stages; CPU well above wall time is a phase that
//! keeps both cores busy, and CPU about equal to it a serial one.

use std::sync::{Mutex, OnceLock};
use std::time::Instant;

static ON: OnceLock<bool> = OnceLock::new();

/// The first mark's time, and the last one's time and CPU time.
static LAST: Mutex<Option<(Instant, Instant, f64)>> = Mutex::new(None);

/// Marks the end of the phase `name` (see the module's documentation).
pub fn mark(name: &str) {
    if !*ON.get_or_init(|| std::env::var_os("PROCTOR_PHASES").is_some_and(|v| v == "1")) {
        return;
    }
    let now = Instant::now();
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let (cpu, rss) = (cpu_ms(&stat), rss_mib(&stat));
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    let (first, prev, prev_cpu) = last.get_or_insert((now, now, cpu));
    let total = now.duration_since(*first).as_secs_f64() * 1e3;
    let since = now.duration_since(*prev).as_secs_f64() * 1e3;
    let spent = cpu - *prev_cpu;
    (*prev, *prev_cpu) = (now, cpu);
    #[allow(clippy::print_stderr)] // What the variable asks for; nothing else prints here.
    {
        eprintln!(
            "phase {total:8.2} ms {since:+8.2} ms  cpu {spent:+5.0} ms  rss {rss:5.0} MiB  {name}"
        );
    }
}

/// The CPU time, in milliseconds, of a process whose `/proc/<pid>/stat` is `stat`: its
/// `utime` and `stime`, the 12th and 13th fields after the command's name (which is in
/// parentheses and may hold spaces and parentheses), in ticks of 10 ms (Linux's USER_HZ).
/// 0 when `stat` is not such a line (other systems have no /proc).
fn cpu_ms(stat: &str) -> f64 {
    let ticks: Vec<f64> = after_name(stat)
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse().ok())
        .collect();
    ticks.iter().sum::<f64>() * 10.0
}

/// The resident memory, in MiB, of a process whose `/proc/<pid>/stat` is `stat`: its `rss`,
/// the 22nd field after the command's name, in pages of 4 KiB. 0 when there is none.
fn rss_mib(stat: &str) -> f64 {
    let pages: f64 = after_name(stat)
        .nth(21)
        .and_then(|t| t.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}

/// The fields of a `/proc/<pid>/stat` line after the command's name.
fn after_name(stat: &str) -> std::str::SplitWhitespace<'_> {
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    after.split_whitespace()
}

#[cfg(test)]
mod tests {
    use super::{cpu_ms, rss_mib};

    #[test]
    fn cpu_time_and_memory_are_read_after_the_command_name() {
        // A command name with a space and a parenthesis; utime 7 and stime 5 ticks, and 512
        // resident pages.
        let stat = "4242 (proc tor) x) S 1 4242 4242 0 -1 4194560 1200 0 0 0 7 5 0 0 20 0 3 0 \
                    88 123456 512 18446744073709551615";
        assert_eq!(cpu_ms(stat), 120.0);
        assert_eq!(rss_mib(stat), 2.0);
        assert_eq!(cpu_ms("no such line"), 0.0);
        assert_eq!(rss_mib("no such line"), 0.0);
    }
}
