//! Interference accounting: what happened on the workers' CPUs during an iteration that was not
//! the workers' own work.
//!
//! Take a [`Snapshot`] right before and right after the iteration, then [`between`] turns the
//! two into an [`Interference`] for the workers' CPUs:
//!
//! - **steal**: time the hypervisor ran something else while a vCPU wanted to run
//!   (/proc/stat, per CPU);
//! - **foreign CPU time**: busy time of those CPUs (user + nice + system + irq + softirq in
//!   /proc/stat) minus loopbench's own CPU time over the same window (every thread of the
//!   process and its reaped children: [`crate::metrics::rusage::process_cpu_ns`]), which the
//!   caller passes in [`WorkerUsage`]. Subtracting the whole process rather than only the
//!   workers keeps the harness's own work (connection set-up, the watchdog) out of the foreign
//!   time; where the harness ran on another CPU, foreign time is undercounted by that much
//!   (milliseconds per iteration, far below the thresholds);
//! - **interrupts and softirqs** on those CPUs (/proc/interrupts, /proc/softirqs). These include
//!   the workload's own wake-up IPIs (`RES`, `CAL`) and its NET_RX work, so they are reported,
//!   not thresholded;
//! - involuntary context switches and migrations of the workers, as the caller measured them.
//!
//! Resolution: /proc/stat counts in USER_HZ ticks (10 ms at the usual 100 Hz) and charges each
//! tick to whatever ran at that moment, so busy and steal times are good to about a tick per CPU
//! over an iteration; foreign time below ~2 ticks per CPU is noise. A negative foreign time
//! (workers' exact time above the sampled busy time) is reported as 0. Over windows shorter
//! than [`MIN_TICKS_FOR_SHARES`] ticks the shares are meaningless (a 16 ms window holds 0–3
//! ticks) and are left out (`None`); the nanosecond figures are still given.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::procfs::{CpuTable, CpuTicks, ParseError, parse_cpu_table, parse_stat};

/// Shortest window, in ticks, over which steal and foreign shares are computed: at 20 ticks
/// (200 ms at 100 Hz) one tick of sampling error is 5 % of one CPU.
pub const MIN_TICKS_FOR_SHARES: u64 = 20;

/// The counters accounting needs, at one moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// CLOCK_MONOTONIC when the snapshot was taken, in nanoseconds.
    pub at_ns: u64,
    /// /proc/stat per CPU.
    pub cpu_ticks: BTreeMap<usize, CpuTicks>,
    /// /proc/interrupts.
    pub interrupts: CpuTable,
    /// /proc/softirqs.
    pub softirqs: CpuTable,
}

/// Why a snapshot could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// A /proc file could not be read.
    #[error("could not read {path}: {source} (is /proc mounted?)")]
    Read {
        /// The file.
        path: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A /proc file had an unexpected format.
    #[error(transparent)]
    Parse(#[from] ParseError),
}

impl Snapshot {
    /// Reads /proc/stat, /proc/interrupts and /proc/softirqs now (tens of µs).
    pub fn take() -> Result<Snapshot, SnapshotError> {
        let read = |path: &'static str| {
            std::fs::read_to_string(path).map_err(|source| SnapshotError::Read { path, source })
        };
        let at_ns = monotonic_ns();
        let (stat, irq, soft) = (
            read("/proc/stat")?,
            read("/proc/interrupts")?,
            read("/proc/softirqs")?,
        );
        Ok(Snapshot::from_texts(at_ns, &stat, &irq, &soft)?)
    }

    /// Builds a snapshot from the texts of the three files, as of `at_ns`.
    pub fn from_texts(
        at_ns: u64,
        stat: &str,
        interrupts: &str,
        softirqs: &str,
    ) -> Result<Snapshot, ParseError> {
        Ok(Snapshot {
            at_ns,
            cpu_ticks: parse_stat(stat)?,
            interrupts: parse_cpu_table(interrupts, "/proc/interrupts")?,
            softirqs: parse_cpu_table(softirqs, "/proc/softirqs")?,
        })
    }
}

/// What loopbench itself did during the iteration, measured by the caller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerUsage {
    /// CPU time of loopbench over the window (all threads, reaped children), in nanoseconds.
    pub cpu_ns: u64,
    /// Involuntary context switches of the workers (preempted by something else).
    pub involuntary_switches: u64,
    /// CPU migrations of the workers; `None` where the kernel does not expose them.
    pub migrations: Option<u64>,
}

/// One worker CPU's share of an iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CpuInterference {
    /// CPU number.
    pub cpu: usize,
    /// Time the CPU was busy (anyone's work), in nanoseconds (tick resolution).
    pub busy_ns: u64,
    /// Time stolen by the hypervisor, in nanoseconds (tick resolution).
    pub steal_ns: u64,
    /// Interrupts of all kinds handled on this CPU.
    pub interrupts: u64,
    /// Softirqs of all kinds run on this CPU.
    pub softirqs: u64,
}

/// Interference on the workers' CPUs over one iteration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Interference {
    /// Wall time between the snapshots, in nanoseconds.
    pub wall_ns: u64,
    /// Length of one /proc/stat tick in nanoseconds: the resolution of busy and steal times.
    pub tick_ns: u64,
    /// Per worker CPU (each CPU once, in the order first given).
    pub cpus: Vec<CpuInterference>,
    /// loopbench's own CPU time over the window, in nanoseconds.
    pub worker_cpu_ns: u64,
    /// Busy time on the worker CPUs not spent by loopbench, in nanoseconds (≥ 0).
    pub foreign_cpu_ns: u64,
    /// Foreign CPU time over the CPUs' wall time (wall × number of worker CPUs); `None` over a
    /// window shorter than [`MIN_TICKS_FOR_SHARES`] ticks.
    pub foreign_share: Option<f64>,
    /// The largest steal time of one worker CPU over the wall time; `None` like `foreign_share`.
    pub steal_share: Option<f64>,
    /// Involuntary context switches of the workers.
    pub involuntary_switches: u64,
    /// CPU migrations of the workers, where known.
    pub migrations: Option<u64>,
}

/// The interference on `worker_cpus` between `before` and `after`, given what the workers did;
/// `tick_ns` is the /proc/stat tick ([`tick_ns`] on this machine). CPUs missing from a snapshot
/// (offline) count as idle.
pub fn between(
    before: &Snapshot,
    after: &Snapshot,
    worker_cpus: &[usize],
    workers: WorkerUsage,
    tick_ns: u64,
) -> Interference {
    let wall_ns = after.at_ns.saturating_sub(before.at_ns);
    let mut cpus: Vec<CpuInterference> = Vec::with_capacity(worker_cpus.len());
    for &cpu in worker_cpus {
        if cpus.iter().any(|c| c.cpu == cpu) {
            continue;
        }
        let ticks = match (before.cpu_ticks.get(&cpu), after.cpu_ticks.get(&cpu)) {
            (Some(b), Some(a)) => a.since(b),
            _ => CpuTicks::default(),
        };
        cpus.push(CpuInterference {
            cpu,
            busy_ns: ticks.busy() * tick_ns,
            steal_ns: ticks.steal * tick_ns,
            interrupts: after
                .interrupts
                .total_on(cpu)
                .saturating_sub(before.interrupts.total_on(cpu)),
            softirqs: after
                .softirqs
                .total_on(cpu)
                .saturating_sub(before.softirqs.total_on(cpu)),
        });
    }
    let busy_ns: u64 = cpus.iter().map(|c| c.busy_ns).sum();
    let foreign_cpu_ns = busy_ns.saturating_sub(workers.cpu_ns);
    let resolved = wall_ns > 0 && !cpus.is_empty() && wall_ns >= MIN_TICKS_FOR_SHARES * tick_ns;
    let share = |x: u64, over: u64| x as f64 / over as f64;
    Interference {
        wall_ns,
        tick_ns,
        foreign_share: resolved.then(|| share(foreign_cpu_ns, wall_ns * cpus.len() as u64)),
        steal_share: resolved.then(|| {
            cpus.iter()
                .map(|c| share(c.steal_ns, wall_ns))
                .fold(0.0, f64::max)
        }),
        cpus,
        worker_cpu_ns: workers.cpu_ns,
        foreign_cpu_ns,
        involuntary_switches: workers.involuntary_switches,
        migrations: workers.migrations,
    }
}

impl Interference {
    /// [`Interference::steal_share`] less one tick per CPU: the steal the counter resolves. The
    /// guest reads the hypervisor's steal clock in nanoseconds but /proc/stat reports it in
    /// whole ticks, so one tick in a window can stand for any steal from almost none to a tick
    /// (on this VM, iterations of 300 ms with one tick of steal were 0.5 % slower at the median
    /// than the other iterations of their run, with two or more 1.2 %). `None` like
    /// `steal_share`.
    pub fn resolved_steal_share(&self) -> Option<f64> {
        self.steal_share?;
        Some(
            self.cpus
                .iter()
                .map(|c| c.steal_ns.saturating_sub(self.tick_ns) as f64 / self.wall_ns as f64)
                .fold(0.0, f64::max),
        )
    }

    /// Interrupts and softirqs on the worker CPUs per second of the window; `None` over an
    /// empty window.
    pub fn irqs_per_sec(&self) -> Option<f64> {
        let n: u64 = self.cpus.iter().map(|c| c.interrupts + c.softirqs).sum();
        (self.wall_ns > 0).then(|| n as f64 * 1e9 / self.wall_ns as f64)
    }
}

impl fmt::Display for Interference {
    /// One line: steal, foreign share, interrupts, softirqs, switches.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let irq: u64 = self.cpus.iter().map(|c| c.interrupts).sum();
        let soft: u64 = self.cpus.iter().map(|c| c.softirqs).sum();
        let pct = |s: Option<f64>| s.map_or("n/a".to_string(), |s| format!("{:.1} %", s * 100.0));
        write!(
            f,
            "steal {}, foreign {}, {irq} irqs, {soft} softirqs, {} involuntary switches",
            pct(self.steal_share),
            pct(self.foreign_share),
            self.involuntary_switches
        )?;
        if let Some(m) = self.migrations {
            write!(f, ", {m} migrations")?;
        }
        Ok(())
    }
}

/// The length of one /proc/stat tick (1 s / USER_HZ) in nanoseconds; 10 ms if unknown.
pub fn tick_ns() -> u64 {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK) {
        Ok(Some(hz)) if hz > 0 => 1_000_000_000 / hz as u64,
        _ => 10_000_000,
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
pub fn monotonic_ns() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(|t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
#[path = "interference_tests.rs"]
mod tests;
