//! Other processes on the machine, from /proc: daemons that retune the host behind a
//! measurement's back (tuned, irqbalance), and processes busy enough to disturb one.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Daemons that change CPU, IRQ or power settings while they run.
pub const TUNING_DAEMONS: &[&str] = &["tuned", "irqbalance"];

/// A process seen in /proc.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProcessInfo {
    /// Process id.
    pub pid: u32,
    /// /proc/PID/comm.
    pub comm: String,
    /// Share of one CPU it used over the sampling interval, in percent.
    pub cpu_percent: f64,
}

fn pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn comm(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim().to_string())
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// Running processes whose comm is one of `names`, as (pid, comm).
pub fn running_named(names: &[&str]) -> Vec<(u32, String)> {
    pids()
        .into_iter()
        .filter_map(|p| {
            let c = comm(p)?;
            names.contains(&c.as_str()).then_some((p, c))
        })
        .collect()
}

/// Processes as people read them: `tuned (pid 812), irqbalance (pid 640)`.
pub fn describe(procs: &[(u32, String)]) -> String {
    procs
        .iter()
        .map(|(p, c)| format!("{c} (pid {p})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Processes (other than this one) that used more than `min_percent` of a CPU over `interval`,
/// busiest first.
pub fn busy_processes(interval: Duration, min_percent: f64) -> Vec<ProcessInfo> {
    let me = std::process::id();
    let first: BTreeMap<u32, u64> = pids()
        .into_iter()
        .filter(|&p| p != me)
        .filter_map(|p| Some((p, cpu_ticks(p)?)))
        .collect();
    let start = Instant::now();
    std::thread::sleep(interval);
    let elapsed = start.elapsed();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let second: BTreeMap<u32, u64> = first
        .keys()
        .filter_map(|&p| Some((p, cpu_ticks(p)?)))
        .collect();
    busy_between(&first, &second, elapsed, hz, min_percent)
        .into_iter()
        .map(|(pid, cpu_percent)| ProcessInfo {
            pid,
            comm: comm(pid).unwrap_or_default(),
            cpu_percent,
        })
        .collect()
}

/// (pid, percent of a CPU) of the processes in both tick snapshots that used more than
/// `min_percent` over `elapsed`, busiest first.
fn busy_between(
    first: &BTreeMap<u32, u64>,
    second: &BTreeMap<u32, u64>,
    elapsed: Duration,
    hz: f64,
    min_percent: f64,
) -> Vec<(u32, f64)> {
    let seconds = elapsed.as_secs_f64().max(f64::MIN_POSITIVE);
    let mut out: Vec<(u32, f64)> = first
        .iter()
        .filter_map(|(&pid, &t0)| {
            let t1 = *second.get(&pid)?;
            let percent = t1.saturating_sub(t0) as f64 / hz / seconds * 100.0;
            (percent > min_percent).then_some((pid, percent))
        })
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_of_a_cpu_come_from_tick_differences_busiest_first() {
        let first = BTreeMap::from([(1, 100), (2, 0), (3, 50), (4, 7)]);
        // Pid 4 ended between the snapshots; pid 5 started after the first.
        let second = BTreeMap::from([(1, 150), (2, 5), (3, 140), (5, 99)]);
        let busy = busy_between(&first, &second, Duration::from_secs(1), 100.0, 10.0);
        assert_eq!(busy, vec![(3, 90.0), (1, 50.0)]);
        // A counter that went backwards (pid reuse) is no use, not a huge share.
        let reused = BTreeMap::from([(1, 10)]);
        assert!(busy_between(&first, &reused, Duration::from_secs(1), 100.0, 0.0).is_empty());
    }

    #[test]
    fn a_busy_child_process_is_seen_and_named() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 3000000 ]; do i=$((i+1)); done"])
            .spawn()
            .unwrap();
        // The threshold is low on purpose: with other tests and builds running, a spinning
        // child can get well under half a CPU, but over half a second it gets some ticks.
        let busy = busy_processes(Duration::from_millis(500), 1.0);
        let _ = child.kill();
        let _ = child.wait();
        assert!(
            busy.iter().any(|p| p.pid == child.id() && p.comm == "sh"),
            "{busy:?}"
        );
    }

    #[test]
    fn processes_are_found_by_name() {
        let me = comm(std::process::id()).unwrap();
        let found = running_named(&[me.as_str()]);
        assert!(found.iter().any(|(p, _)| *p == std::process::id()));
        assert!(running_named(&["no-such-daemon-xyz"]).is_empty());
    }
}
