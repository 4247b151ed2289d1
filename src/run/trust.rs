//! Trust on a noisy machine, around every measured iteration: the drift canary on the case's two
//! CPUs right before it, /proc snapshots around it (steal, foreign CPU time, interrupts), and
//! after each iteration the `disturbed` marks of the whole run, recomputed from every canary so
//! far ([`crate::stats::robust`]).

use crate::host::topology::ResolvedPlacement;
use crate::metrics::canary::{CanaryConfig, CanaryFigures, HostThreads, run_canary};
use crate::metrics::interference::{Snapshot, WorkerUsage, between, tick_ns};
use crate::metrics::rusage::process_cpu_ns;
use crate::run::worker::IterationOutcome;
use crate::stats::robust::{Evidence, Policy, classify};
use crate::store::optional::IterationExtras;
use crate::store::record::{CaseRecord, RunRecord};
use crate::store::trust::{CanaryBandsRecord, CaseTrust, Disturbance};
use crate::store::trust_tally::{canary_group, evidence};

/// The two CPUs a case's canary runs on: its first client's and first server's; `None` when the
/// workers are not pinned.
pub fn canary_cpus(cpus: &ResolvedPlacement) -> Option<[usize; 2]> {
    Some([*cpus.client.first()?, *cpus.server.first()?])
}

/// The CPUs whose interference counts for a case: those its workers are pinned to, or every CPU
/// this process may use when they are not pinned.
pub fn worker_cpus(cpus: &ResolvedPlacement) -> Vec<usize> {
    let mut v: Vec<usize> = cpus.client.iter().chain(&cpus.server).copied().collect();
    if v.is_empty() {
        v = crate::host::topology::allowed_cpus().into_iter().collect();
    }
    v.sort_unstable();
    v.dedup();
    v
}

/// What was taken right before an iteration.
pub struct Around {
    canary: Option<CanaryFigures>,
    snapshot: Option<Snapshot>,
    cpu_ns: u64,
}

impl Around {
    /// Takes the canary (unless `canary` is `None` or the workers are not pinned), then the
    /// /proc snapshot and loopbench's CPU time. What fails is noted in `notes` (once per text)
    /// and left out; it never fails the iteration.
    pub fn start(
        cpus: &ResolvedPlacement,
        canary: Option<&CanaryConfig>,
        notes: &mut Vec<String>,
    ) -> Around {
        let mut note = |text: String| {
            if !notes.contains(&text) {
                notes.push(text);
            }
        };
        let canary = match (canary, canary_cpus(cpus)) {
            (Some(config), Some(pair)) => run_canary(&HostThreads, pair, config)
                .map_err(|e| note(format!("no drift canary: {e:#}")))
                .ok(),
            _ => None,
        };
        let snapshot = Snapshot::take()
            .map_err(|e| note(format!("no interference accounting: {e}")))
            .ok();
        Around {
            canary,
            snapshot,
            cpu_ns: process_cpu_ns(),
        }
    }

    /// Completes the accounting with what the iteration measured and stores both in `extras`.
    pub fn finish(
        self,
        cpus: &ResolvedPlacement,
        out: &IterationOutcome,
        extras: &mut IterationExtras,
    ) {
        let used = process_cpu_ns().saturating_sub(self.cpu_ns);
        extras.canary = self.canary;
        let (Some(before), Ok(after)) = (self.snapshot, Snapshot::take()) else {
            return;
        };
        let migrations = match (out.client.migrations, out.server.migrations) {
            (Some(c), Some(s)) => Some(c + s),
            _ => None,
        };
        let own = WorkerUsage {
            cpu_ns: used,
            involuntary_switches: out.client.usage.involuntary_switches
                + out.server.usage.involuntary_switches,
            migrations,
        };
        extras.interference = Some(between(&before, &after, &worker_cpus(cpus), own, tick_ns()));
    }
}

/// Marks the disturbed iterations of every case of `record` (canary bands per pair of CPUs over
/// the whole run, switch and interrupt bands per case), counts them per case and records the
/// bands. Cheap enough to run after every iteration: a sort per band.
pub fn classify_run(record: &mut RunRecord, policy: &Policy) {
    let mut pairs: Vec<[usize; 2]> = Vec::new();
    let mut run: Vec<Evidence> = Vec::new();
    for (case_group, case) in record.cases.iter().enumerate() {
        let pinned = !case.requested_cpus.client.is_empty();
        for it in &case.iterations {
            run.push(Evidence {
                canary_group: canary_group(&mut pairs, it),
                case_group,
                ..evidence(it, pinned)
            });
        }
    }
    let classified = classify(&run, policy);
    let mut reasons = classified.reasons.into_iter();
    for case in &mut record.cases {
        for it in &mut case.iterations {
            let r = reasons.next().unwrap_or_default();
            it.extras.disturbed = r.iter().map(Disturbance::from).collect();
        }
        count(case);
    }
    if let Some(trust) = &mut record.trust {
        trust.bands = classified
            .canary_bands
            .iter()
            .filter_map(|b| {
                Some(CanaryBandsRecord {
                    cpus: *pairs.get(b.group)?,
                    spin: b.spin,
                    wake: b.wake,
                })
            })
            .collect();
    }
}

/// Updates a case's disturbed count and canary in its summary, keeping its precision.
fn count(case: &mut CaseRecord) {
    let Some(summary) = &mut case.summary else {
        return;
    };
    let precision = summary.extras.trust.take().and_then(|t| t.precision);
    summary.extras.trust = Some(CaseTrust {
        precision,
        ..CaseTrust::count(&case.iterations)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canaries_need_pinned_workers_and_interference_covers_their_cpus() {
        let pinned = ResolvedPlacement {
            client: vec![1, 0],
            server: vec![0, 1],
        };
        assert_eq!(canary_cpus(&pinned), Some([1, 0]));
        assert_eq!(worker_cpus(&pinned), vec![0, 1]);
        let free = ResolvedPlacement::default();
        assert_eq!(canary_cpus(&free), None);
        assert!(!worker_cpus(&free).is_empty(), "every allowed CPU");
    }
}
