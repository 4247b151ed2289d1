//! `--precision`: after the planned iterations, keep adding interleaved rounds (one more
//! iteration of every case that has not reached its target, in a shuffled order) until every
//! case's p50 (its throughput, for a workload without latency) has a 95 % interval no wider than
//! ±target, or until `--max-time` would be exceeded by another round.
//!
//! The statistic, its interval and the stopping rule are [`crate::stats::precision`]: the median
//! of the per-iteration figures with a bootstrap interval (each iteration of a run is its own
//! resampling unit: they run interleaved on fresh connections), stopping when the interval is
//! narrow enough (Chow & Robbins' fixed-width sequential interval; Kalibera & Jones, "Rigorous
//! Benchmarking in Reasonable Time", ISMM 2013, for sizing repetitions from the variance), after
//! at least [`DEFAULT_MIN_ROUNDS`](crate::stats::precision::DEFAULT_MIN_ROUNDS) iterations. Each
//! case stops on its own; disturbed iterations are left out while at least that many clean ones
//! remain. The interval describes this run: repeating runs (`ab`, a study's rounds) adds the
//! variation between runs.

use std::time::Duration;

use crate::run::schedule::{Scheduler, Slot, SlotKind};
use crate::stats::median_with_interval_clustered;
use crate::stats::precision::{Budget, CasePrecision, Decision, Target, assess, decide};
use crate::store::metric::Unit;
use crate::store::record::{CaseRecord, IterationRecord, RunRecord};
use crate::store::trust::{PrecisionRecord, PrecisionSettings};

/// Bootstrap resamples per assessment: the interval's ends move by well under a tenth of the
/// ±2 % target between seeds.
const RESAMPLES: usize = 2000;

/// What `--precision` asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrecisionRequest {
    /// The target half-width, relative (0.02 for ±2 %).
    pub target_rel: f64,
    /// The most time the run may spend, planned iterations included.
    pub max_time: Duration,
}

/// The figure a case's precision is about: `("p50", p50 ns)` when it records latency, else its
/// throughput in the workload's unit.
pub fn figure(case: &CaseRecord, it: &IterationRecord) -> (&'static str, f64) {
    if it.latency.count > 0 {
        return ("p50", it.latency.p50_ns as f64);
    }
    match crate::workload::def(case.spec.workload).throughput_unit() {
        Unit::BytesPerSec => ("throughput", it.bytes_per_sec),
        _ => ("throughput", it.msgs_per_sec),
    }
}

/// The precision of one case so far: over its clean iterations when at least the minimum
/// remain, else over all; `None` before any iteration.
pub fn assess_case(
    case: &CaseRecord,
    target: &Target,
    seed: u64,
) -> Option<(CasePrecision, PrecisionRecord)> {
    let clean: Vec<&IterationRecord> = case
        .iterations
        .iter()
        .filter(|i| i.extras.disturbed.is_empty())
        .collect();
    let used: Vec<&IterationRecord> = if clean.len() >= target.min_rounds {
        clean
    } else {
        case.iterations.iter().collect()
    };
    let metric = figure(case, used.first()?).0;
    let values: Vec<f64> = used.iter().map(|i| figure(case, i).1).collect();
    let clusters: Vec<&[f64]> = values.chunks(1).collect();
    let p = assess(&clusters, target, |c, conf| {
        median_with_interval_clustered(c, conf, seed, RESAMPLES).ok()
    })?;
    let ci = p.estimate.confidence_interval;
    let record = PrecisionRecord {
        metric: metric.to_string(),
        target_rel: target.half_width_rel,
        confidence: target.confidence,
        point: p.estimate.point,
        lower: ci.lower_bound,
        upper: ci.upper_bound,
        reached_rel: p.half_width_rel,
        iterations: values.len() as u32,
        reached: p.reached,
    };
    Some((p, record))
}

/// The stopping rule's state over a run.
pub struct Stopping {
    request: PrecisionRequest,
    target: Target,
    scheduler: Scheduler,
    /// The next iteration index of each case.
    next_index: Vec<u32>,
    /// Rounds so far (the planned iterations count as rounds, one per iteration of the case that
    /// has most).
    rounds: u32,
    seed: u64,
}

impl Stopping {
    /// The rule for a run whose plan gives each case `iterations[i]` iterations.
    pub fn new(request: PrecisionRequest, iterations: &[u32], seed: u64) -> Stopping {
        Stopping {
            request,
            target: Target::new(request.target_rel),
            scheduler: Scheduler::seeded(seed ^ 0x7072_6563_6973_696f),
            next_index: iterations.to_vec(),
            rounds: iterations.iter().copied().max().unwrap_or(0),
            seed,
        }
    }

    /// Assesses every case (recording its precision in its summary) and returns the next round's
    /// slots, shuffled; empty when the run should stop (every case reached its target, or the
    /// next round would not fit in `--max-time`). `spent` is the run's time so far and
    /// `iterations_run` the measured iterations so far, from which a round's cost is estimated.
    pub fn next_round(
        &mut self,
        record: &mut RunRecord,
        spent: Duration,
        iterations_run: usize,
    ) -> Vec<Slot> {
        let mut assessed = Vec::new();
        let mut open = Vec::new();
        for (i, case) in record.cases.iter_mut().enumerate() {
            if !case.errors.is_empty() {
                continue;
            }
            let Some((p, rec)) = assess_case(case, &self.target, self.seed ^ i as u64) else {
                continue;
            };
            if let Some(t) = case.summary.as_mut().and_then(|s| s.extras.trust.as_mut()) {
                t.precision = Some(rec);
            }
            if !p.reached {
                open.push(i);
            }
            assessed.push(p);
        }
        let per_iteration = spent / iterations_run.max(1) as u32;
        let budget = Budget {
            max: self.request.max_time,
            spent,
            per_round: per_iteration * open.len() as u32,
        };
        let decision = decide(&assessed, &budget);
        let stopped = match decision {
            Decision::Reached => Some("reached"),
            Decision::BudgetSpent => Some("max-time"),
            Decision::More { .. } => None,
        };
        if let Some(trust) = &mut record.trust {
            trust.precision = Some(PrecisionSettings {
                target_rel: self.request.target_rel,
                max_time_ns: self.request.max_time.as_nanos() as u64,
                rounds: self.rounds,
                stopped: stopped.unwrap_or("running").to_string(),
            });
        }
        if stopped.is_some() {
            return Vec::new();
        }
        self.rounds += 1;
        let order = self.scheduler.round(open.len());
        order
            .into_iter()
            .map(|k| {
                let case = open[k];
                let index = self.next_index[case];
                self.next_index[case] += 1;
                Slot {
                    case,
                    kind: SlotKind::Iteration(index),
                }
            })
            .collect()
    }

    /// Records that the run stopped for `why` (e.g. `interrupted`).
    pub fn stop(&self, record: &mut RunRecord, why: &str) {
        if let Some(p) = record.trust.as_mut().and_then(|t| t.precision.as_mut()) {
            p.stopped = why.to_string();
        }
    }
}
