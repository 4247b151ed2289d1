//! The execute loop of a run: each slot of the plan on fresh connections, every finished
//! iteration and case reported to an [`Observer`] (the store writes files as they come in).

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::error::Interrupted;
use crate::metrics::case_histograms::CaseHistograms;
use crate::run::cpu_profile::CaseProfile;
use crate::run::kernel::CaseTrace;
pub use crate::run::plan::{Plan, PlannedCase};
use crate::run::precision::Stopping;
use crate::run::records::{iteration_record, summarize};
pub use crate::run::schedule::{Slot, SlotKind};
use crate::run::trust::{Around, classify_run};
use crate::run::worker::{IterationOutcome, run_iteration_stamped};
use crate::spec::IterationLength;
use crate::store::record::{CaseRecord, IterationRecord, MemcpyReference, RunRecord};
use crate::store::stages::Timeline;
use crate::workload::moves_bulk_data;

/// How long the memcpy reference of a bulk-data case copies.
const MEMCPY_REFERENCE_TIME: Duration = Duration::from_millis(50);

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
    /// A measured iteration of a case was added to its record and histograms.
    IterationStored {
        /// Index into the plan's cases.
        case: usize,
        /// Its histograms, with the iteration's last.
        histograms: &'a CaseHistograms,
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

/// Runs every slot of `plan`, filling `record` and telling `observer` as it goes; with
/// `--precision` ([`Plan::precision`]) then adds rounds until every case's interval is narrow
/// enough or the time is spent ([`Stopping`]). Returns each case's histograms. A failing case is
/// recorded and skipped; an interruption stops the run with everything finished so far recorded
/// (`record.complete` stays false).
pub fn execute(
    plan: &Plan,
    record: &mut RunRecord,
    observer: &mut dyn Observer,
    interrupt: &AtomicBool,
) -> Result<Vec<CaseHistograms>> {
    let run_start = Instant::now();
    let mut states = CaseState::for_plan(plan);
    let mut stopping = plan.precision.map(|p| {
        let planned: Vec<u32> = plan
            .cases
            .iter()
            .map(|c| c.spec.timing.iterations)
            .collect();
        Stopping::new(p, &planned, plan.seed)
    });
    let mut slots = plan.slots.clone();
    let (mut position, mut measured) = (0, 0);
    let interrupted = loop {
        while position < slots.len() {
            let slot = slots[position];
            let state = &mut states[slot.case];
            position += 1;
            if state.failed {
                continue;
            }
            let at = position - 1;
            observer.on_event(record, Event::SlotStarted { position: at, slot })?;
            let case = &plan.cases[slot.case];
            let rec = &mut record.cases[slot.case];
            let stored = state.histograms.iterations.len();
            let interrupted = state.run_slot(case, slot.kind, run_start, rec, interrupt, plan)?;
            if matches!(slot.kind, SlotKind::Iteration(_)) {
                measured += 1;
                let policy = record.trust.as_ref().map(|t| t.policy).unwrap_or_default();
                classify_run(record, &policy);
            }
            if state.histograms.iterations.len() > stored {
                let (case, histograms) = (slot.case, &state.histograms);
                observer.on_event(record, Event::IterationStored { case, histograms })?;
            }
            state.remaining -= 1;
            observer.on_event(record, Event::SlotFinished { position: at, slot })?;
            if interrupted {
                return finish_interrupted(record, observer, states, stopping.as_ref());
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
        let Some(stopping) = stopping.as_mut() else {
            break false;
        };
        let more = stopping.next_round(record, run_start.elapsed(), measured);
        if more.is_empty() {
            break false;
        }
        for s in &more {
            states[s.case].remaining += 1;
            record.schedule.push(plan.scheduled(*s));
        }
        slots.extend(more);
    };
    record.interrupted = interrupted;
    record.complete = !interrupted;
    crate::run::kernel::link_overheads(record);
    Ok(states.into_iter().map(|s| s.histograms).collect())
}

/// Ends an interrupted run: marks it, and hands over what the cases cut short measured.
fn finish_interrupted(
    record: &mut RunRecord,
    observer: &mut dyn Observer,
    states: Vec<CaseState>,
    stopping: Option<&Stopping>,
) -> Result<Vec<CaseHistograms>> {
    record.interrupted = true;
    record.complete = false;
    crate::run::kernel::link_overheads(record);
    if let Some(s) = stopping {
        s.stop(record, "interrupted");
    }
    for (case, state) in states.iter().enumerate() {
        if state.remaining > 0 && !state.failed && !state.histograms.iterations.is_empty() {
            let histograms = &state.histograms;
            observer.on_event(record, Event::CaseFinished { case, histograms })?;
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
    /// `--stages`: each measured iteration's typical round trip.
    typicals: Vec<Timeline>,
    /// `--trace`: the tracer's counts and typical round trips over the iterations.
    trace: Option<CaseTrace>,
    /// `--profile`: the samples over the iterations.
    profile: Option<CaseProfile>,
    /// The fastest messages per second per flow of the case's slots so far (sizes the next one's
    /// stamp logs).
    rate_per_flow: Option<f64>,
}

/// The round trip nearest `rtt_ns` of `typicals` (the first of equals).
fn nearest(typicals: &[Timeline], rtt_ns: u64) -> Option<&Timeline> {
    typicals.iter().min_by_key(|t| t.rtt_ns.abs_diff(rtt_ns))
}

impl CaseState {
    /// One state per case of `plan`.
    fn for_plan(plan: &Plan) -> Vec<CaseState> {
        let mut states: Vec<CaseState> = plan
            .cases
            .iter()
            .map(|case| CaseState {
                histograms: CaseHistograms::default(),
                remaining: 0,
                failed: false,
                memcpy: None,
                typicals: Vec::new(),
                trace: case.spec.probes.trace.then(CaseTrace::default),
                profile: case.spec.probes.profile.then(CaseProfile::default),
                rate_per_flow: None,
            })
            .collect();
        for s in &plan.slots {
            states[s.case].remaining += 1;
        }
        states
    }

    /// Runs one slot of `case` and records it in `rec`; true when the run was interrupted. A
    /// measured iteration gets its canary and interference accounting ([`Around`]).
    fn run_slot(
        &mut self,
        case: &PlannedCase,
        kind: SlotKind,
        run_start: Instant,
        rec: &mut CaseRecord,
        interrupt: &AtomicBool,
        plan: &Plan,
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
        let around = matches!(kind, SlotKind::Iteration(_))
            .then(|| Around::start(&case.cpus, plan.canary.as_ref(), &mut rec.notes));
        let offset_ns = run_start.elapsed().as_nanos() as u64;
        let spec = &case.spec;
        let stamps = spec
            .instrument
            .stages
            .then(|| crate::metrics::stamps::capacity(spec, length, self.rate_per_flow));
        match run_iteration_stamped(spec, &case.cpus, length, stamps, interrupt) {
            Ok(out) => {
                let c = &out.client;
                let rate =
                    crate::metrics::per_sec(c.counters.messages + c.counters.lost, c.elapsed_ns)
                        / f64::from(spec.flows.max(1));
                self.rate_per_flow = Some(self.rate_per_flow.map_or(rate, |r| r.max(rate)));
                if let (SlotKind::Iteration(index), Some(around)) = (kind, around) {
                    self.add_iteration(case, index, offset_ns, out, around, rec)?;
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

    /// `--trace`, `--profile`: adds what the kernel recorded in an iteration to the case, and
    /// the tracer's part to the iteration's record.
    fn add_kernel(
        &mut self,
        index: u32,
        out: &IterationOutcome,
        iteration: &mut IterationRecord,
    ) -> Result<()> {
        let Some(kernel) = &out.kernel else {
            return Ok(());
        };
        if let (Some(case), Some(t)) = (&mut self.trace, &kernel.trace) {
            let only = |cpus: &[usize]| (cpus.len() == 1).then(|| cpus[0]);
            let cpus = (only(&out.client.cpus), only(&out.server.cpus));
            let (rec, set) = case.add(index, t, cpus, &mut self.histograms.kernel_stages)?;
            iteration.extras.kernel_stages = crate::store::stages::medians(&set);
            iteration.extras.kernel_trace = Some(rec);
        }
        if let (Some(case), Some(p)) = (&mut self.profile, &kernel.profile) {
            case.add(p);
        }
        Ok(())
    }

    /// Adds a measured iteration to the case's record and histograms, and updates its summary.
    fn add_iteration(
        &mut self,
        case: &PlannedCase,
        index: u32,
        offset_ns: u64,
        out: IterationOutcome,
        around: Around,
        rec: &mut CaseRecord,
    ) -> Result<()> {
        let mut iteration = iteration_record(&case.spec, &case.cpus, index, offset_ns, &out);
        around.finish(&case.cpus, &out, &mut iteration.extras);
        self.add_kernel(index, &out, &mut iteration)?;
        rec.iterations.push(iteration);
        let h = &mut self.histograms;
        if let Some(st) = out.stages {
            h.stages.add(&st.set)?;
            h.stage_paths.add(&st.paths)?;
            self.typicals.extend(st.typical.map(|t| Timeline {
                iteration: index,
                ..t
            }));
        }
        h.add_iteration(out.latency, out.latency_actual)?;
        if let Some(m) = &out.service {
            let names = crate::workload::mix::kind_names(&case.spec);
            for (name, kind) in names.iter().zip(&m.kinds) {
                h.kinds.stage_mut(name).histogram.add(kind)?;
            }
        }
        let said = rec
            .summary
            .as_ref()
            .and_then(|s| s.extras.service.as_ref())
            .map(|s| s.diagnosis())
            .unwrap_or_default();
        rec.summary = summarize(&rec.iterations, &h.merged, self.memcpy);
        if let Some(s) = &mut rec.summary {
            s.extras = crate::run::records::summary(&rec.iterations, h.actual_merged.as_ref());
            let rtt = s.latency.p50_ns;
            s.extras.stages = crate::store::stages::summarize(&h.stages, rtt);
            if !h.stages.is_empty() {
                let split = crate::store::stage_split::PathSplit::of(&h.stage_paths);
                s.extras.stage_paths = Some(split);
            }
            s.extras.kernel_stages = crate::store::stages::summarize(&h.kernel_stages, rtt);
            s.extras.typical_round_trip = nearest(&self.typicals, rtt).cloned();
            let services: Vec<_> = rec
                .iterations
                .iter()
                .filter_map(|i| i.extras.service.as_ref())
                .collect();
            if !services.is_empty() {
                let service = crate::store::service::ServiceRecord::merge(services, &h.kinds);
                // The case's notes say the diagnosis of all iterations so far, once.
                rec.notes.retain(|n| !said.contains(n));
                rec.notes.extend(service.diagnosis());
                s.extras.service = Some(service);
            }
            if let Some(t) = &self.trace {
                s.extras.kernel_trace = Some(t.record(&h.kernel_stages));
                if s.extras.typical_round_trip.is_none() {
                    s.extras.typical_round_trip = t.typical();
                } else {
                    s.extras.typical_kernel_round_trip = t.typical();
                }
            }
            let bytes = moves_bulk_data(case.spec.workload)
                .then(|| rec.iterations.iter().map(|i| i.bytes).sum());
            s.extras.cpu_profile = self
                .profile
                .as_ref()
                .map(|p| p.record(crate::run::worker::probes::categories(), bytes));
        }
        rec.connection.get_or_insert(out.connection);
        Ok(())
    }
}
