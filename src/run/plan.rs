//! The plan of a run: every case validated (its workload's checks too) and placed on CPUs, and
//! the seeded, interleaved schedule of their warm-ups and iterations.

use std::collections::HashSet;
use std::time::Duration;

use crate::error::ConfigError;
use crate::host::topology::{ResolvedPlacement, Topology};
use crate::metrics::canary::CanaryConfig;
use crate::run::precision::PrecisionRequest;
use crate::run::resources;
use crate::run::schedule::{CaseSlots, Slot, SlotKind, run_slots};
use crate::spec::{CaseId, IterationLength, Spec};
use crate::store::record::{CaseRecord, ScheduledSlot};

/// A validated case with the CPUs it will run on.
#[derive(Clone, Debug)]
pub struct PlannedCase {
    /// The spec.
    pub spec: Spec,
    /// Its case id.
    pub case_id: CaseId,
    /// The CPUs its placement resolved to.
    pub cpus: ResolvedPlacement,
}

/// Validated cases and the order their slots run in.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The cases, in the order given (duplicates removed).
    pub cases: Vec<PlannedCase>,
    /// The schedule.
    pub slots: Vec<Slot>,
    /// The seed the schedule was shuffled with.
    pub seed: u64,
    /// The drift canary taken before every measured iteration of a pinned case (`None`: none).
    pub canary: Option<CanaryConfig>,
    /// `--precision`: rounds are added after the planned ones until it is reached.
    pub precision: Option<PrecisionRequest>,
}

impl Plan {
    /// Validates and places every spec, then builds the schedule: all measured iterations of all
    /// cases shuffled together (unless `interleave` is false), each case's warm-up placed just
    /// before its first iteration.
    pub fn new(
        specs: Vec<Spec>,
        topology: &Topology,
        seed: u64,
        interleave: bool,
    ) -> Result<Plan, ConfigError> {
        if specs.is_empty() {
            return Err(ConfigError::Invalid(
                "nothing to run: the matrix is empty".into(),
            ));
        }
        let mut seen = HashSet::new();
        let mut checked = HashSet::new();
        let mut cases = Vec::new();
        for spec in specs {
            crate::workload::check(&spec)?;
            if checked.insert(spec.engine_choice()) {
                crate::engine::check_host(spec.engine_choice())?;
            }
            let case_id = spec.case_id();
            if !seen.insert(case_id.clone()) {
                continue;
            }
            if let Some(crate::spec::address::Endpoint::UnixPath(path)) = &spec.addr {
                crate::spec::socket_path::check_bindable("--addr", path)?;
            }
            let cpus = topology.resolve(spec.placement)?;
            if let Some(cpu) = spec.interference.memory_load_cpu {
                topology.check_cpu_flag("--memory-load", cpu)?;
            }
            cases.push(PlannedCase {
                spec,
                case_id,
                cpus,
            });
        }
        let specs: Vec<&Spec> = cases.iter().map(|c| &c.spec).collect();
        resources::check_memory(&specs, &resources::headroom())?;
        for spec in specs {
            resources::check_fds(spec)?;
        }
        let shapes: Vec<CaseSlots> = cases
            .iter()
            .map(|c| CaseSlots {
                iterations: c.spec.timing.iterations,
                warmup: c.spec.timing.warmup_ns > 0,
            })
            .collect();
        let slots = run_slots(&shapes, seed, interleave);
        Ok(Plan {
            cases,
            slots,
            seed,
            canary: Some(CanaryConfig::default()),
            precision: None,
        })
    }

    /// Roughly how long the run takes (duration-based slots only).
    pub fn estimated_duration(&self) -> Duration {
        let ns: u64 = self
            .slots
            .iter()
            .map(|s| {
                let t = &self.cases[s.case].spec.timing;
                match (s.kind, t.length) {
                    (SlotKind::Warmup, _) => t.warmup_ns,
                    (SlotKind::Iteration(_), IterationLength::Duration { duration_ns }) => {
                        duration_ns
                    }
                    (SlotKind::Iteration(_), IterationLength::Count { .. }) => 0,
                }
            })
            .sum();
        Duration::from_nanos(ns)
    }

    /// The schedule as recorded in run.json.
    pub fn recorded_schedule(&self) -> Vec<ScheduledSlot> {
        self.slots.iter().map(|s| self.scheduled(*s)).collect()
    }

    /// One slot as recorded in run.json.
    pub fn scheduled(&self, s: Slot) -> ScheduledSlot {
        ScheduledSlot {
            case_id: self.cases[s.case].case_id.clone(),
            iteration: match s.kind {
                SlotKind::Warmup => None,
                SlotKind::Iteration(i) => Some(i),
            },
        }
    }

    /// Empty case records for a new run, one per case.
    pub fn case_records(&self) -> Vec<CaseRecord> {
        self.cases
            .iter()
            .map(|c| CaseRecord {
                case_id: c.case_id.clone(),
                spec: c.spec.clone(),
                requested_cpus: c.cpus.clone(),
                iterations: Vec::new(),
                summary: None,
                errors: Vec::new(),
                complete: false,
                files: Default::default(),
                connection: None,
                notes: crate::run::records::case_notes(&c.spec, &c.cpus),
                clamped: Vec::new(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Placement, Transport};

    fn specs(n: usize, iterations: u32) -> Vec<Spec> {
        (0..n)
            .map(|i| {
                let mut s = Spec::new(Transport::Pipe);
                s.size = 64 + i;
                s.response_size = 64 + i;
                s.placement = Placement::Unpinned;
                s.timing.iterations = iterations;
                s
            })
            .collect()
    }

    #[test]
    fn schedule_interleaves_all_iterations_with_warmups_first() {
        let plan = Plan::new(specs(4, 5), &Topology::detect(), 7, true).unwrap();
        assert_eq!(plan.slots.len(), 4 * 5 + 4);
        for case in 0..4 {
            let mine: Vec<SlotKind> = plan
                .slots
                .iter()
                .filter(|s| s.case == case)
                .map(|s| s.kind)
                .collect();
            assert_eq!(mine[0], SlotKind::Warmup);
            let idx: Vec<u32> = mine[1..]
                .iter()
                .map(|k| {
                    if let SlotKind::Iteration(i) = k {
                        *i
                    } else {
                        99
                    }
                })
                .collect();
            assert_eq!(
                idx,
                vec![0, 1, 2, 3, 4],
                "iterations numbered in the order they run"
            );
        }
        let blocks = plan
            .slots
            .windows(2)
            .filter(|w| w[0].case == w[1].case)
            .count();
        assert!(
            blocks < 15,
            "slots are shuffled, not run case by case: {blocks}"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_schedule_and_another_seed_another() {
        let t = Topology::detect();
        let a = Plan::new(specs(5, 4), &t, 42, true).unwrap().slots;
        let b = Plan::new(specs(5, 4), &t, 42, true).unwrap().slots;
        let c = Plan::new(specs(5, 4), &t, 43, true).unwrap().slots;
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn without_interleaving_cases_run_in_order() {
        let plan = Plan::new(specs(3, 2), &Topology::detect(), 1, false).unwrap();
        let cases: Vec<usize> = plan.slots.iter().map(|s| s.case).collect();
        assert_eq!(cases, vec![0, 0, 0, 1, 1, 1, 2, 2, 2]);
    }

    #[test]
    fn duplicate_cases_are_merged_and_bad_specs_refused() {
        let mut s = specs(1, 1);
        s.push(s[0].clone());
        assert_eq!(
            Plan::new(s, &Topology::detect(), 1, true)
                .unwrap()
                .cases
                .len(),
            1
        );
        let mut bad = specs(1, 1);
        bad[0].size = 0;
        assert!(Plan::new(bad, &Topology::detect(), 1, true).is_err());
    }
}
