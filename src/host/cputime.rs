//! Per-CPU busy and idle time from /proc/stat (the kernel's accounting, in clock ticks): what a
//! study compares with the time the CPUs spent polling in their idle loop.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One CPU's accumulated time, in ns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuTime {
    /// user + nice + system + irq + softirq.
    pub busy_ns: u64,
    /// idle + iowait (a polling idle loop counts as idle here).
    pub idle_ns: u64,
}

/// Parses /proc/stat's `cpuN` lines; `tick_ns` is the length of one clock tick (USER_HZ).
pub fn parse(text: &str, tick_ns: u64) -> BTreeMap<usize, CpuTime> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let cpu: usize = f.next()?.strip_prefix("cpu")?.parse().ok()?;
            let v: Vec<u64> = f.map_while(|x| x.parse().ok()).collect();
            let at = |i: usize| v.get(i).copied().unwrap_or(0) * tick_ns;
            // user nice system idle iowait irq softirq steal ...
            Some((
                cpu,
                CpuTime {
                    busy_ns: at(0) + at(1) + at(2) + at(5) + at(6),
                    idle_ns: at(3) + at(4),
                },
            ))
        })
        .collect()
}

/// Every CPU's time so far; empty when /proc/stat cannot be read.
pub fn now() -> BTreeMap<usize, CpuTime> {
    // SAFETY: sysconf has no memory-safety preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let tick_ns = if hz > 0 {
        1_000_000_000 / hz as u64
    } else {
        10_000_000
    };
    std::fs::read_to_string("/proc/stat").map_or_else(|_| BTreeMap::new(), |t| parse(&t, tick_ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_cpu_lines_are_read_and_the_total_is_skipped() {
        let text = "cpu  10 0 5 100 1 0 0 0 0 0\n\
                    cpu0 6 1 2 40 1 1 1 7 0 0\n\
                    cpu1 4 0 3 60 0 0 0 0 0 0\n\
                    intr 123\n";
        let t = parse(text, 10);
        assert_eq!(t.len(), 2);
        assert_eq!(t[&0].busy_ns, (6 + 1 + 2 + 1 + 1) * 10);
        assert_eq!(t[&0].idle_ns, (40 + 1) * 10);
        assert_eq!(t[&1].busy_ns, 70);
    }

    #[test]
    fn this_machine_has_at_least_one_cpu_line() {
        assert!(!now().is_empty());
    }
}
