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
    let elapsed = start.elapsed().as_secs_f64();
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let mut out: Vec<ProcessInfo> = first
        .into_iter()
        .filter_map(|(pid, t0)| {
            let t1 = cpu_ticks(pid)?;
            let cpu_percent = t1.saturating_sub(t0) as f64 / hz / elapsed * 100.0;
            (cpu_percent > min_percent).then(|| ProcessInfo {
                pid,
                comm: comm(pid).unwrap_or_default(),
                cpu_percent,
            })
        })
        .collect();
    out.sort_by(|a, b| b.cpu_percent.total_cmp(&a.cpu_percent));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_child_process_is_seen_and_named() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 3000000 ]; do i=$((i+1)); done"])
            .spawn()
            .unwrap();
        let busy = busy_processes(Duration::from_millis(300), 10.0);
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
