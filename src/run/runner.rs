//! Orchestration of a run: validate and place every case, interleave the iterations of all cases
//! into one seeded schedule ([`crate::run::schedule`]), run each slot on fresh connections, and
//! report every finished iteration and case to an [`Observer`] (the store writes files as they
//! come in).

use std::collections::HashSet;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::error::{ConfigError, Interrupted};
use crate::host::topology::{ResolvedPlacement, Topology};
use crate::metrics::histogram::{CaseHistograms, LatencyHistogram, LatencySummary};
use crate::metrics::per_sec;
use crate::metrics::rusage::SideUsage;
use crate::run::schedule::{CaseSlots, run_slots};
pub use crate::run::schedule::{Slot, SlotKind};
use crate::run::worker::{IterationOutcome, SideOutcome, Throughput, run_iteration};
use crate::spec::{CaseId, IterationLength, Spec};
use crate::store::record::{
    CaseRecord, CaseSummary, IterationRecord, MemcpyReference, RunRecord, ScheduledSlot,
    SideRecord, Spread,
};
use crate::workload::moves_bulk_data;

/// How long the memcpy reference of a bulk-data case copies.
const MEMCPY_REFERENCE_TIME: Duration = Duration::from_millis(50);

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
        let mut cases = Vec::new();
        for spec in specs {
            crate::workload::check(&spec)?;
            let case_id = spec.case_id();
            if !seen.insert(case_id.clone()) {
                continue;
            }
            let cpus = topology.resolve(spec.placement)?;
            cases.push(PlannedCase {
                spec,
                case_id,
                cpus,
            });
        }
        let shapes: Vec<CaseSlots> = cases
            .iter()
            .map(|c| CaseSlots {
                iterations: c.spec.timing.iterations,
                warmup: c.spec.timing.warmup_ns > 0,
            })
            .collect();
        let slots = run_slots(&shapes, seed, interleave);
        Ok(Plan { cases, slots, seed })
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
        self.slots
            .iter()
            .map(|s| ScheduledSlot {
                case_id: self.cases[s.case].case_id.clone(),
                iteration: match s.kind {
                    SlotKind::Warmup => None,
                    SlotKind::Iteration(i) => Some(i),
                },
            })
            .collect()
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
            })
            .collect()
    }
}

/// What happened, for observers (progress display, the store).
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// A slot is about to run.
    SlotStarted {
        /// Position in the schedule.
        position: usize,
        /// The slot.
        slot: Slot,
    },
    /// A slot ended (successfully or not); `record` has been updated.
    SlotFinished {
        /// Position in the schedule.
        position: usize,
        /// The slot.
        slot: Slot,
    },
    /// A case has no more slots to run (all done, failed, or the run was interrupted).
    CaseFinished {
        /// Index into the plan's cases.
        case: usize,
        /// Its histograms.
        histograms: &'a CaseHistograms,
    },
}

/// Receives the run's progress. An error from an observer stops the run.
pub trait Observer {
    /// Called for every event, with the record as it stands.
    fn on_event(&mut self, record: &mut RunRecord, event: Event<'_>) -> Result<()>;
}

/// An observer that ignores everything.
pub struct NoObserver;

impl Observer for NoObserver {
    fn on_event(&mut self, _: &mut RunRecord, _: Event<'_>) -> Result<()> {
        Ok(())
    }
}

fn side_record(side: &SideOutcome, messages: u64, elapsed_ns: u64) -> SideRecord {
    SideRecord {
        usage: SideUsage::new(side.usage, messages, elapsed_ns),
        counters: side.counters,
        cpus: side.cpus.clone(),
        migrations: side.migrations,
    }
}

fn iteration_record(
    case: &PlannedCase,
    index: u32,
    started_offset_ns: u64,
    out: &IterationOutcome,
) -> IterationRecord {
    let Throughput {
        messages,
        bytes,
        elapsed_ns,
    } = out.throughput;
    IterationRecord {
        index,
        started_offset_ns,
        elapsed_ns,
        messages,
        bytes,
        latency: LatencySummary::of(&out.latency),
        msgs_per_sec: per_sec(messages, elapsed_ns),
        bytes_per_sec: per_sec(bytes, elapsed_ns),
        client: side_record(&out.client, messages, out.client.elapsed_ns),
        server: side_record(&out.server, messages, out.server.elapsed_ns),
        slices: out
            .server
            .slices
            .iter()
            .chain(&out.client.slices)
            .copied()
            .collect(),
        extras: crate::run::records::iteration(&case.spec, &case.cpus, out),
    }
}

/// Merges a case's iterations into its summary; `memcpy` is the case's memcpy reference, if it
/// has one.
pub fn summarize(
    iterations: &[IterationRecord],
    merged: &LatencyHistogram,
    memcpy: Option<MemcpyReference>,
) -> Option<CaseSummary> {
    if iterations.is_empty() {
        return None;
    }
    let elapsed: u64 = iterations.iter().map(|i| i.elapsed_ns).sum();
    let messages: u64 = iterations.iter().map(|i| i.messages).sum();
    let received: u64 = iterations.iter().map(|i| i.bytes).sum();
    let side = |pick: fn(&IterationRecord) -> &SideRecord| {
        let mut total = SideOutcome::default();
        for (i, it) in iterations.iter().enumerate() {
            let s = pick(it);
            total.add_part(i == 0, s.usage.total, s.cpus.iter().copied(), s.migrations);
            total.counters += s.counters;
        }
        total.settle_cpus();
        side_record(&total, messages, elapsed)
    };
    Some(CaseSummary {
        iterations: iterations.len() as u32,
        latency: LatencySummary::of(merged),
        msgs_per_sec: per_sec(messages, elapsed),
        bytes_per_sec: per_sec(received, elapsed),
        p50_ns_spread: Spread::of(iterations.iter().map(|i| i.latency.p50_ns as f64)),
        msgs_per_sec_spread: Spread::of(iterations.iter().map(|i| i.msgs_per_sec)),
        client: side(|i| &i.client),
        server: side(|i| &i.server),
        memcpy,
        copy_efficiency: memcpy
            .filter(|m| m.bytes_per_sec > 0.0)
            .map(|m| per_sec(received, elapsed) / m.bytes_per_sec),
        extras: Default::default(),
    })
}

/// Runs every slot of `plan`, filling `record` and telling `observer` as it goes. Returns each
/// case's histograms. A failing case is recorded and skipped; an interruption stops the run with
/// everything finished so far recorded (`record.complete` stays false).
pub fn execute(
    plan: &Plan,
    record: &mut RunRecord,
    observer: &mut dyn Observer,
    interrupt: &AtomicBool,
) -> Result<Vec<CaseHistograms>> {
    let run_start = Instant::now();
    let mut states = CaseState::for_plan(plan);
    let mut interrupted = false;
    for (position, &slot) in plan.slots.iter().enumerate() {
        let state = &mut states[slot.case];
        if state.failed {
            continue;
        }
        observer.on_event(record, Event::SlotStarted { position, slot })?;
        let case = &plan.cases[slot.case];
        let rec = &mut record.cases[slot.case];
        interrupted = state.run_slot(case, slot.kind, run_start, rec, interrupt)?;
        state.remaining -= 1;
        observer.on_event(record, Event::SlotFinished { position, slot })?;
        if interrupted {
            break;
        }
        if state.remaining == 0 || state.failed {
            record.cases[slot.case].complete = !state.failed;
            let histograms = &state.histograms;
            observer.on_event(
                record,
                Event::CaseFinished {
                    case: slot.case,
                    histograms,
                },
            )?;
        }
    }
    record.interrupted = interrupted;
    record.complete = !interrupted;
    if interrupted {
        // The cases cut short still hand over what they measured.
        for (case, state) in states.iter().enumerate() {
            if state.remaining > 0 && !state.failed && !state.histograms.iterations.is_empty() {
                let histograms = &state.histograms;
                observer.on_event(record, Event::CaseFinished { case, histograms })?;
            }
        }
    }
    Ok(states.into_iter().map(|s| s.histograms).collect())
}

/// One case while the run goes.
struct CaseState {
    histograms: CaseHistograms,
    /// Slots still to run.
    remaining: usize,
    /// A slot failed: the case's other slots are skipped.
    failed: bool,
    /// Its memcpy reference, once measured.
    memcpy: Option<MemcpyReference>,
}

impl CaseState {
    /// One state per case of `plan`.
    fn for_plan(plan: &Plan) -> Vec<CaseState> {
        let mut states: Vec<CaseState> = plan
            .cases
            .iter()
            .map(|_| CaseState {
                histograms: CaseHistograms::default(),
                remaining: 0,
                failed: false,
                memcpy: None,
            })
            .collect();
        for s in &plan.slots {
            states[s.case].remaining += 1;
        }
        states
    }

    /// Runs one slot of `case` and records it in `rec`; true when the run was interrupted.
    fn run_slot(
        &mut self,
        case: &PlannedCase,
        kind: SlotKind,
        run_start: Instant,
        rec: &mut CaseRecord,
        interrupt: &AtomicBool,
    ) -> Result<bool> {
        let length = match kind {
            SlotKind::Warmup => IterationLength::Duration {
                duration_ns: case.spec.timing.warmup_ns,
            },
            SlotKind::Iteration(_) => {
                self.measure_memcpy_once(case, rec);
                case.spec.timing.length
            }
        };
        let offset_ns = run_start.elapsed().as_nanos() as u64;
        match run_iteration(&case.spec, &case.cpus, length, interrupt) {
            Ok(out) => {
                if let SlotKind::Iteration(index) = kind {
                    self.add_iteration(case, index, offset_ns, out, rec)?;
                }
            }
            Err(e) if e.downcast_ref::<Interrupted>().is_some() => return Ok(true),
            Err(e) => {
                let what = match kind {
                    SlotKind::Warmup => "warm-up".to_string(),
                    SlotKind::Iteration(i) => format!("iteration {}", i + 1),
                };
                rec.errors.push(format!("{what}: {e:#}"));
                self.failed = true;
            }
        }
        Ok(false)
    }

    /// A bulk-data case's memcpy reference: on the receiving CPU, just before its first measured
    /// iteration (tried again before the next when it failed).
    fn measure_memcpy_once(&mut self, case: &PlannedCase, rec: &mut CaseRecord) {
        if self.memcpy.is_some() || !moves_bulk_data(case.spec.workload) {
            return;
        }
        let cpu = case.cpus.server_cpu(0);
        match crate::metrics::memcpy::measure(case.spec.size, cpu, MEMCPY_REFERENCE_TIME) {
            Ok(m) => self.memcpy = Some(m),
            Err(e) => rec.errors.push(format!("memcpy reference: {e:#}")),
        }
    }

    /// Adds a measured iteration to the case's record and histograms, and updates its summary.
    fn add_iteration(
        &mut self,
        case: &PlannedCase,
        index: u32,
        offset_ns: u64,
        out: IterationOutcome,
        rec: &mut CaseRecord,
    ) -> Result<()> {
        rec.iterations
            .push(iteration_record(case, index, offset_ns, &out));
        let h = &mut self.histograms;
        h.add_iteration(out.latency, out.latency_actual)?;
        rec.summary = summarize(&rec.iterations, &h.merged, self.memcpy);
        if let Some(s) = &mut rec.summary {
            s.extras = crate::run::records::summary(&rec.iterations, h.actual_merged.as_ref());
        }
        rec.connection.get_or_insert(out.connection);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::histogram::new_histogram;
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

    #[test]
    fn summaries_merge_iterations() {
        let mut h = new_histogram();
        h.record(1000).unwrap();
        let it = |index: u32, msgs: u64, p50: u64| {
            let mut r = IterationRecord {
                index,
                elapsed_ns: 1_000_000_000,
                latency: LatencySummary {
                    p50_ns: p50,
                    ..Default::default()
                },
                msgs_per_sec: msgs as f64,
                ..IterationRecord::default()
            };
            r.messages = msgs;
            r
        };
        let s = summarize(&[it(0, 100, 10), it(1, 300, 30), it(2, 200, 20)], &h, None).unwrap();
        assert_eq!(s.iterations, 3);
        assert_eq!(s.msgs_per_sec, 200.0);
        assert_eq!(
            s.p50_ns_spread,
            Spread {
                min: 10.0,
                median: 20.0,
                max: 30.0
            }
        );
        assert!(summarize(&[], &h, None).is_none());
    }
}
