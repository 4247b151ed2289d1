//! Parsers for the per-CPU counters in /proc/stat, /proc/interrupts and /proc/softirqs.
//!
//! Hand-written rather than taken from the `procfs` crate: three small line formats, and the
//! crate would bring a large dependency tree for them. CPUs are identified by number, not by
//! column position: offline CPUs are missing from all three files.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Why a /proc text could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A line that should hold numbers does not.
    #[error("{file}: line {line}: {what}")]
    Malformed {
        /// Which file (e.g. "/proc/stat").
        file: &'static str,
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        what: String,
    },
    /// No per-CPU data at all.
    #[error("{0}: no per-CPU lines found")]
    NoCpus(&'static str),
}

/// One CPU's line of /proc/stat, in USER_HZ ticks (fields missing on old kernels read as 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuTicks {
    /// Normal user time.
    pub user: u64,
    /// Niced user time.
    pub nice: u64,
    /// Kernel time.
    pub system: u64,
    /// Idle time.
    pub idle: u64,
    /// Idle while I/O was outstanding.
    pub iowait: u64,
    /// Hard-interrupt time.
    pub irq: u64,
    /// Softirq time.
    pub softirq: u64,
    /// Time the hypervisor ran something else while this vCPU wanted to run.
    pub steal: u64,
}

impl CpuTicks {
    /// Time this CPU was running something: user, nice, system, irq and softirq (guest time is
    /// already inside user and nice; iowait is idle; steal is time it was not running at all).
    pub fn busy(&self) -> u64 {
        self.user + self.nice + self.system + self.irq + self.softirq
    }

    /// Field by field `self - earlier`, saturating (a counter never runs backwards, but a CPU
    /// that went offline and came back restarts some of them).
    pub fn since(&self, earlier: &CpuTicks) -> CpuTicks {
        let d = |a: u64, b: u64| a.saturating_sub(b);
        CpuTicks {
            user: d(self.user, earlier.user),
            nice: d(self.nice, earlier.nice),
            system: d(self.system, earlier.system),
            idle: d(self.idle, earlier.idle),
            iowait: d(self.iowait, earlier.iowait),
            irq: d(self.irq, earlier.irq),
            softirq: d(self.softirq, earlier.softirq),
            steal: d(self.steal, earlier.steal),
        }
    }
}

/// Reads the `cpuN` lines of a /proc/stat text (the aggregate `cpu` line is skipped).
pub fn parse_stat(text: &str) -> Result<BTreeMap<usize, CpuTicks>, ParseError> {
    let mut cpus = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let mut words = line.split_whitespace();
        let Some(cpu) = words.next().and_then(|w| w.strip_prefix("cpu")) else {
            continue;
        };
        if cpu.is_empty() {
            continue;
        }
        let bad = |what: String| ParseError::Malformed {
            file: "/proc/stat",
            line: i + 1,
            what,
        };
        let id: usize = cpu
            .parse()
            .map_err(|_| bad(format!("bad CPU name cpu{cpu}")))?;
        let values = words
            .map(|w| w.parse::<u64>())
            .collect::<Result<Vec<u64>, _>>()
            .map_err(|e| bad(format!("cpu{id}: {e}")))?;
        if values.len() < 4 {
            return Err(bad(format!(
                "cpu{id}: {} fields, expected at least 4",
                values.len()
            )));
        }
        let f = |k: usize| values.get(k).copied().unwrap_or(0);
        cpus.insert(
            id,
            CpuTicks {
                user: f(0),
                nice: f(1),
                system: f(2),
                idle: f(3),
                iowait: f(4),
                irq: f(5),
                softirq: f(6),
                steal: f(7),
            },
        );
    }
    if cpus.is_empty() {
        return Err(ParseError::NoCpus("/proc/stat"));
    }
    Ok(cpus)
}

/// A table of per-CPU counters: /proc/interrupts or /proc/softirqs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuTable {
    /// CPU number of each column.
    pub cpus: Vec<usize>,
    /// Row label (`NET_RX`, `LOC`, `36`, ...) and its count per column.
    pub rows: Vec<(String, Vec<u64>)>,
}

impl CpuTable {
    /// Column of `cpu`, if it is online in this table.
    fn column(&self, cpu: usize) -> Option<usize> {
        self.cpus.iter().position(|&c| c == cpu)
    }

    /// Sum of all rows on `cpu` (0 when the CPU is not in the table).
    pub fn total_on(&self, cpu: usize) -> u64 {
        self.column(cpu)
            .map_or(0, |c| self.rows.iter().map(|(_, v)| v[c]).sum())
    }

    /// The count of row `label` on `cpu`, if both exist.
    pub fn row_on(&self, label: &str, cpu: usize) -> Option<u64> {
        let c = self.column(cpu)?;
        self.rows
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v[c])
    }
}

/// Reads a /proc/interrupts or /proc/softirqs text (`file` names it in errors). Rows with fewer
/// counts than CPUs (the global `ERR:` and `MIS:`) are left out; trailing descriptions are
/// ignored.
pub fn parse_cpu_table(text: &str, file: &'static str) -> Result<CpuTable, ParseError> {
    let mut lines = text.lines().enumerate();
    let (_, header) = lines.next().ok_or(ParseError::NoCpus(file))?;
    let cpus = header
        .split_whitespace()
        .map(|w| w.strip_prefix("CPU").and_then(|n| n.parse::<usize>().ok()))
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| ParseError::Malformed {
            file,
            line: 1,
            what: format!("header {header:?} is not a list of CPUn"),
        })?;
    if cpus.is_empty() {
        return Err(ParseError::NoCpus(file));
    }
    let mut rows = Vec::new();
    for (i, line) in lines {
        let Some((label, rest)) = line.split_once(':') else {
            if line.trim().is_empty() {
                continue;
            }
            return Err(ParseError::Malformed {
                file,
                line: i + 1,
                what: format!("no label in {line:?}"),
            });
        };
        let counts: Vec<u64> = rest
            .split_whitespace()
            .take(cpus.len())
            .map_while(|w| w.parse().ok())
            .collect();
        let label = label.trim();
        // ERR and MIS are machine-wide counts: on a one-CPU machine they would pass for a row.
        if counts.len() == cpus.len() && !matches!(label, "ERR" | "MIS") {
            rows.push((label.to_string(), counts));
        }
    }
    Ok(CpuTable { cpus, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!("{}/tests/data/proc/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn this_machines_stat_has_both_cpus() {
        let cpus = parse_stat(&fixture("stat")).unwrap();
        assert_eq!(cpus.keys().copied().collect::<Vec<_>>(), vec![0, 1]);
        // cpu1 24994 0 4138 15209 251 0 28 20 0 0
        let c1 = cpus[&1];
        assert_eq!(
            (c1.user, c1.system, c1.idle, c1.softirq, c1.steal),
            (24994, 4138, 15209, 28, 20)
        );
        assert_eq!(c1.busy(), 24994 + 4138 + 28);
    }

    #[test]
    fn an_old_kernel_with_an_offline_cpu() {
        let cpus = parse_stat(&fixture("stat_offline_cpu1_old_kernel")).unwrap();
        assert_eq!(cpus.keys().copied().collect::<Vec<_>>(), vec![0, 2]);
        assert_eq!(cpus[&2].steal, 7);
        let earlier = CpuTicks {
            user: 900,
            steal: 9,
            ..cpus[&2]
        };
        let d = cpus[&2].since(&earlier);
        assert_eq!((d.user, d.steal, d.idle), (100, 0, 0));
    }

    #[test]
    fn garbage_is_an_error_naming_the_line() {
        let e = parse_stat(&fixture("stat_garbage")).unwrap_err();
        assert!(matches!(e, ParseError::Malformed { line: 2, .. }), "{e}");
        assert_eq!(
            parse_stat("intr 1 2\n"),
            Err(ParseError::NoCpus("/proc/stat"))
        );
    }

    #[test]
    fn this_machines_interrupts_and_softirqs() {
        let irq = parse_cpu_table(&fixture("interrupts"), "/proc/interrupts").unwrap();
        assert_eq!(irq.cpus, vec![0, 1]);
        assert_eq!(irq.row_on("LOC", 0), Some(81207));
        assert_eq!(irq.row_on("36", 1), Some(15564));
        assert_eq!(irq.row_on("ERR", 0), None, "global rows are left out");
        let soft = parse_cpu_table(&fixture("softirqs"), "/proc/softirqs").unwrap();
        assert_eq!(soft.row_on("NET_RX", 1), Some(1454));
        let sum: u64 = [0, 9639, 0, 1454, 15563, 0, 7, 15035, 0, 28267]
            .iter()
            .sum();
        assert_eq!(soft.total_on(1), sum);
    }

    #[test]
    fn tables_with_an_offline_cpu_are_read_by_cpu_number() {
        let irq =
            parse_cpu_table(&fixture("interrupts_4cpu_cpu1_offline"), "/proc/interrupts").unwrap();
        assert_eq!(irq.cpus, vec![0, 2, 3]);
        assert_eq!(irq.row_on("120", 2), Some(7));
        // CPU3 column: 0 (timer), 0 (rtc0), 89, NMI 5, LOC 800000, RES 300.
        assert_eq!(irq.total_on(3), 89 + 5 + 800_000 + 300);
        assert_eq!(irq.total_on(1), 0, "offline CPU");
        let soft =
            parse_cpu_table(&fixture("softirqs_4cpu_cpu1_offline"), "/proc/softirqs").unwrap();
        assert_eq!(soft.row_on("NET_RX", 3), Some(30));
        assert!(parse_cpu_table("", "/proc/softirqs").is_err());
        assert!(parse_cpu_table("  CPU0 nope\n", "/proc/softirqs").is_err());
    }
}
