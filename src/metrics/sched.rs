//! Scheduler facts per thread and per CPU: how often a worker thread migrated between CPUs
//! (`se.nr_migrations` in /proc/thread-self/sched, present when the kernel has
//! CONFIG_SCHED_DEBUG), and how many NET_RX softirqs each CPU ran (/proc/softirqs), so a result
//! shows which CPU did the receive work of loopback traffic.

use std::fs;

/// CPU migrations of the calling thread so far; `None` when this kernel does not expose them.
pub fn thread_migrations() -> Option<u64> {
    let text = fs::read_to_string("/proc/thread-self/sched").ok()?;
    parse_migrations(&text)
}

/// Reads `se.nr_migrations` from a `/proc/<pid>/task/<tid>/sched` text.
pub fn parse_migrations(text: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (key, value) = l.split_once(':')?;
        (key.trim() == "se.nr_migrations")
            .then(|| value.trim().parse().ok())
            .flatten()
    })
}

/// NET_RX softirqs run so far on each CPU (index = CPU number); `None` when unavailable.
pub fn net_rx_softirqs() -> Option<Vec<u64>> {
    let text = fs::read_to_string("/proc/softirqs").ok()?;
    parse_softirqs(&text, "NET_RX")
}

/// Reads one row of a /proc/softirqs text, indexed by CPU number (0 for CPUs the file does not
/// list, e.g. offline ones).
pub fn parse_softirqs(text: &str, row: &str) -> Option<Vec<u64>> {
    let table = super::procfs::parse_cpu_table(text, "/proc/softirqs").ok()?;
    table.rows.iter().find(|(label, _)| label == row)?;
    let last = table.cpus.iter().copied().max()?;
    Some(
        (0..=last)
            .map(|cpu| table.row_on(row, cpu).unwrap_or(0))
            .collect(),
    )
}

/// `after - before`, CPU by CPU.
pub fn delta(before: &[u64], after: &[u64]) -> Vec<u64> {
    after
        .iter()
        .zip(before)
        .map(|(a, b)| a.saturating_sub(*b))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_read_from_the_sched_file() {
        let text = "cat (1, #threads: 1)\n---\nse.exec_start   :  2872065.977456\n\
                    se.nr_migrations                             :                    7\n\
                    nr_switches : 1\n";
        assert_eq!(parse_migrations(text), Some(7));
        assert_eq!(parse_migrations("nothing here"), None);
    }

    #[test]
    fn softirq_rows_are_read_per_cpu() {
        let text = "                    CPU0       CPU1\n          HI:          0          0\n\
                    \x20     NET_TX:          4          0\n      NET_RX:   18868818    2482098\n";
        assert_eq!(
            parse_softirqs(text, "NET_RX"),
            Some(vec![18868818, 2482098])
        );
        assert_eq!(parse_softirqs(text, "BLOCK"), None);
        let offline = "   CPU0   CPU2\n NET_RX:  5  7\n";
        assert_eq!(parse_softirqs(offline, "NET_RX"), Some(vec![5, 0, 7]));
        assert_eq!(delta(&[1, 5], &[4, 5]), vec![3, 0]);
    }

    #[test]
    fn this_kernel_answers_or_says_it_cannot() {
        let listed = std::fs::read_to_string("/proc/thread-self/sched")
            .is_ok_and(|t| t.contains("se.nr_migrations"));
        assert_eq!(thread_migrations().is_some(), listed);
        assert!(net_rx_softirqs().is_none_or(|v| !v.is_empty()));
    }
}
