//! What a variant's run cost the CPUs besides the workers' own CPU time: per CPU, the time busy
//! (/proc/stat) and the time spent in polling idle states (cpuidle `POLL`), over the run's wall
//! time. A polling idle loop (cpu_dma_latency 0, a disabled halt state, guest halt-polling) counts
//! as idle in /proc/stat, yet keeps the CPU running: this is where that cost shows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::host::cpuidle::{self, CPU_ROOT, StateTimes};
use crate::host::cputime::{self, CpuTime};
use crate::host::topology::Topology;
use crate::spec::Spec;

/// One CPU over the run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CpuWindow {
    /// The CPU.
    pub cpu: usize,
    /// Busy time (user, system, irq, softirq), ns.
    pub busy_ns: u64,
    /// Time in polling idle states, ns.
    pub poll_ns: u64,
    /// Time in each idle state, µs, by name.
    pub idle_states_us: StateTimes,
}

/// Every online CPU over one run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CpuCost {
    /// Wall time of the window, ns.
    pub wall_ns: u64,
    /// The CPUs the cases' workers are pinned to (empty: not pinned).
    pub worker_cpus: Vec<usize>,
    /// Per CPU.
    pub cpus: Vec<CpuWindow>,
}

impl CpuCost {
    /// The CPUs the figures are about: the workers', or all when the cases are not pinned.
    fn chosen(&self) -> impl Iterator<Item = &CpuWindow> {
        self.cpus
            .iter()
            .filter(|c| self.worker_cpus.is_empty() || self.worker_cpus.contains(&c.cpu))
    }

    fn share(&self, f: impl Fn(&CpuWindow) -> u64) -> Option<f64> {
        let (sum, n) = self
            .chosen()
            .fold((0u64, 0u64), |(s, n), c| (s + f(c), n + 1));
        (n > 0 && self.wall_ns > 0).then(|| sum as f64 / (self.wall_ns as f64 * n as f64))
    }

    /// Time in polling idle states over the wall time of the workers' CPUs (0.0–1.0).
    pub fn poll_share(&self) -> Option<f64> {
        self.share(|c| c.poll_ns)
    }

    /// Busy time over the wall time of the workers' CPUs (0.0–1.0).
    pub fn busy_share(&self) -> Option<f64> {
        self.share(|c| c.busy_ns)
    }
}

/// The CPUs `specs`' workers are pinned to on `topology`; empty when a case is not pinned (it may
/// run on any) or cannot be placed.
pub fn worker_cpus(specs: &[Spec], topology: &Topology) -> Vec<usize> {
    let mut cpus = BTreeSet::new();
    for spec in specs {
        match topology.resolve(spec.placement) {
            Ok(p) if !p.client.is_empty() && !p.server.is_empty() => {
                cpus.extend(p.client.iter().chain(&p.server))
            }
            _ => return Vec::new(),
        }
    }
    cpus.into_iter().collect()
}

/// The counters at the start of a window.
pub struct CpuCostStart {
    at: Instant,
    cpus: Vec<usize>,
    time: BTreeMap<usize, CpuTime>,
    idle: BTreeMap<usize, StateTimes>,
}

/// Starts a window over `cpus` (every online CPU); `worker_cpus` are recorded with it.
pub fn start(cpus: &[usize]) -> CpuCostStart {
    CpuCostStart {
        at: Instant::now(),
        cpus: cpus.to_vec(),
        time: cputime::now(),
        idle: cpuidle::times_in(Path::new(CPU_ROOT), cpus),
    }
}

impl CpuCostStart {
    /// Ends the window.
    pub fn finish(self, worker_cpus: Vec<usize>) -> CpuCost {
        let wall_ns = self.at.elapsed().as_nanos() as u64;
        let time = cputime::now();
        let idle = cpuidle::times_in(Path::new(CPU_ROOT), &self.cpus);
        window(self, wall_ns, &time, &idle, worker_cpus)
    }
}

/// The differences between the start and the counters at the end.
fn window(
    start: CpuCostStart,
    wall_ns: u64,
    time: &BTreeMap<usize, CpuTime>,
    idle: &BTreeMap<usize, StateTimes>,
    worker_cpus: Vec<usize>,
) -> CpuCost {
    let cpus = start
        .cpus
        .iter()
        .map(|&cpu| {
            let t0 = start.time.get(&cpu).copied().unwrap_or_default();
            let t1 = time.get(&cpu).copied().unwrap_or_default();
            let i0 = start.idle.get(&cpu).cloned().unwrap_or_default();
            let i1 = idle.get(&cpu).cloned().unwrap_or_default();
            let idle_states_us: StateTimes = i1
                .iter()
                .map(|(name, &us)| (name.clone(), us.saturating_sub(*i0.get(name).unwrap_or(&0))))
                .collect();
            let poll_us: u64 = cpuidle::polling_states(&idle_states_us)
                .map(|(_, us)| *us)
                .sum();
            CpuWindow {
                cpu,
                busy_ns: t1.busy_ns.saturating_sub(t0.busy_ns),
                poll_ns: poll_us * 1000,
                idle_states_us,
            }
        })
        .collect();
    CpuCost {
        wall_ns,
        worker_cpus,
        cpus,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times(busy: u64) -> BTreeMap<usize, CpuTime> {
        [
            (
                0,
                CpuTime {
                    busy_ns: busy,
                    idle_ns: 0,
                },
            ),
            (
                1,
                CpuTime {
                    busy_ns: busy,
                    idle_ns: 0,
                },
            ),
        ]
        .into()
    }

    fn idle(poll_us: u64, halt_us: u64) -> BTreeMap<usize, StateTimes> {
        let t: StateTimes = [("POLL".to_string(), poll_us), ("C1".to_string(), halt_us)].into();
        [(0, t.clone()), (1, t)].into()
    }

    #[test]
    fn the_window_is_the_difference_and_shares_are_over_the_workers_cpus() {
        let start = CpuCostStart {
            at: Instant::now(),
            cpus: vec![0, 1],
            time: times(1_000),
            idle: idle(100, 1_000),
        };
        // 1 s: 0.25 s busy and 0.5 s polling per CPU.
        let c = window(
            start,
            1_000_000_000,
            &times(250_001_000),
            &idle(500_100, 1_100),
            vec![1],
        );
        assert_eq!(c.cpus[1].busy_ns, 250_000_000);
        assert_eq!(c.cpus[1].poll_ns, 500_000_000);
        assert_eq!(c.cpus[1].idle_states_us["C1"], 100);
        assert_eq!(c.poll_share(), Some(0.5));
        assert_eq!(c.busy_share(), Some(0.25));
        assert_eq!(CpuCost::default().poll_share(), None);
    }

    #[test]
    fn a_real_window_has_every_cpu() {
        let cpus = crate::host::topology::Topology::detect().online;
        let c = start(&cpus).finish(Vec::new());
        assert_eq!(c.cpus.len(), cpus.len());
        assert!(c.poll_share().is_some_and(|s| (0.0..=1.5).contains(&s)));
    }
}
