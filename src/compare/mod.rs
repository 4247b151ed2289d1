//! Comparing runs: `loopbench compare BASE NEW` and the regression gate.
//!
//! The method (also in the README and `loopbench compare --help`):
//!
//! - The sample unit is one **iteration** (a fresh connection pair, interleaved with the other
//!   cases), never an individual request: requests within an iteration are autocorrelated.
//!   Each side may pool several runs.
//! - Per case and metric (p50, p99, p99.9, throughput) the ratio of medians NEW/BASE gets a
//!   bootstrap confidence interval ([`ratio_of_medians`](crate::stats::ratio_of_medians)) and a
//!   one-sided Mann–Whitney U test in each direction
//!   ([`mann_whitney_u`](crate::stats::mann_whitney_u)); Holm's correction
//!   ([`holm`](crate::stats::holm)) spans every gated metric of every case. Cases measured
//!   interleaved in the same run(s) are time-paired instead: the median of per-pair ratios with a
//!   bootstrap interval ([`paired_ratio`](crate::stats::paired_ratio)) and an exact sign test
//!   ([`sign_test`](crate::stats::sign_test)).
//! - [`gate`] decides: regression only when significant AND the interval lies entirely beyond
//!   the metric's noise threshold.
//!
//! The statistics themselves are [`crate::stats`]: plain functions over `&[f64]`.

pub mod ab;
pub mod comparison;
pub mod env;
pub mod gate;
pub mod input;
pub mod metric;
pub mod output;
pub mod rounds;
pub mod trust;
#[cfg(test)]
mod trust_tests;
pub mod turn_pairs;
pub mod turns;

use std::collections::BTreeMap;

use anyhow::Result;

use crate::error::UsageError;
use crate::spec::CaseId;
pub use comparison::{
    CaseComparison, CasePrecision, Comparison, ComparisonPrecision, RunSummary, SCHEMA_VERSION,
    VerdictCounts,
};
use gate::{GateConfig, MetricInput, Samples, Verdict, evaluate};
use input::{PooledCase, Side, pool};
use metric::Metric;

/// What to compare and how.
#[derive(Clone, Debug, Default)]
pub struct CompareOptions {
    /// The statistics and thresholds.
    pub gate: GateConfig,
    /// Cases to compare although their ids differ: (BASE id, NEW id).
    pub pairs: Vec<(CaseId, CaseId)>,
    /// Refuse to compare when the environments differ.
    pub strict_env: bool,
    /// Treat separate runs as independent samples even when they were measured in rounds.
    pub unpaired: bool,
}

fn run_summaries(side: &Side) -> Vec<RunSummary> {
    side.runs
        .iter()
        .map(|r| RunSummary {
            path: r.path.display().to_string(),
            run_id: r.record.run_id.clone(),
            tool: format!(
                "{} {}{}",
                r.record.tool.name,
                r.record.tool.version,
                r.record
                    .tool
                    .git_revision
                    .as_ref()
                    .map(|g| format!(" ({g})"))
                    .unwrap_or_default()
            ),
            complete: r.record.complete,
            loadavg_1m: r.record.environment.loadavg_1m,
        })
        .collect()
}

/// The cases to compare: explicit pairs first, then every id both sides have.
fn match_cases(
    base: &BTreeMap<CaseId, PooledCase<'_>>,
    new: &BTreeMap<CaseId, PooledCase<'_>>,
    pairs: &[(CaseId, CaseId)],
) -> Result<Vec<(CaseId, CaseId)>> {
    let list = |m: &BTreeMap<CaseId, PooledCase<'_>>| {
        m.keys()
            .map(|k| k.0.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut matched = Vec::new();
    for (b, n) in pairs {
        for (id, side, map) in [(b, "BASE", base), (n, "NEW", new)] {
            if !map.contains_key(id) {
                return Err(UsageError(format!(
                    "--pair: {side} has no case {id}; it has: {}",
                    list(map)
                ))
                .into());
            }
        }
        matched.push((b.clone(), n.clone()));
    }
    for id in base.keys() {
        let taken = matched.iter().any(|(b, n)| b == id || n == id);
        if !taken && new.contains_key(id) {
            matched.push((id.clone(), id.clone()));
        }
    }
    if matched.is_empty() {
        return Err(UsageError(format!(
            "BASE and NEW have no case in common. BASE has: {}. NEW has: {}. \
             To compare cases whose ids differ, pass --pair BASE_ID=NEW_ID",
            list(base),
            list(new)
        ))
        .into());
    }
    Ok(matched)
}

fn samples(case: &PooledCase<'_>, metric: Metric) -> Samples {
    let workload = case.spec.workload;
    let mut values = Vec::new();
    let mut runs = Vec::new();
    let mut rest = case.iterations.as_slice();
    for &n in &case.per_run {
        let (run, tail) = rest.split_at(n);
        let before = values.len();
        values.extend(run.iter().filter_map(|it| metric.value(it, workload)));
        // A run left out whole (its round dropped as disturbed) is no cluster.
        if values.len() > before {
            runs.push(values.len() - before);
        }
        rest = tail;
    }
    Samples {
        values,
        runs,
        min_latency_count: case
            .iterations
            .iter()
            .map(|it| it.latency.count)
            .min()
            .unwrap_or(0),
    }
}

/// For two cases measured in the same runs (interleaved; the caller checks), each NEW iteration
/// with the BASE iteration of its run that started closest in time.
fn time_pairs(b: &PooledCase<'_>, n: &PooledCase<'_>, metric: Metric) -> Vec<(f64, f64)> {
    debug_assert_eq!(b.run_ids, n.run_ids);
    let (bw, nw) = (b.spec.workload, n.spec.workload);
    let mut pairs = Vec::new();
    for ((_, base_its), (_, new_its)) in b.by_run().into_iter().zip(n.by_run()) {
        for it in new_its {
            let Some(nv) = metric.value(it, nw) else {
                continue;
            };
            let closest = base_its
                .iter()
                .filter_map(|bt| {
                    Some((
                        bt.started_offset_ns.abs_diff(it.started_offset_ns),
                        metric.value(bt, bw)?,
                    ))
                })
                .min_by_key(|&(gap, _)| gap);
            if let Some((_, bv)) = closest {
                pairs.push((bv, nv));
            }
        }
    }
    pairs
}

/// (run id, median of the run's values of `metric`) for each run of a pooled case.
fn run_medians<'a>(case: &'a PooledCase<'a>, metric: Metric) -> Vec<(&'a str, f64)> {
    case.by_run()
        .into_iter()
        .filter_map(|(id, its)| {
            let v: Vec<f64> = its
                .iter()
                .filter_map(|it| metric.value(it, case.spec.workload))
                .collect();
            (!v.is_empty()).then(|| (id, crate::stats::median(&v)))
        })
        .collect()
}

/// When the two sides are separate runs measured in rounds (`loopbench ab`: each round runs a
/// BASE and a NEW run back to back, in a random order), each round's NEW run with its BASE run:
/// (median of the BASE run's values, median of the NEW run's). Empty unless the runs with values,
/// taken in order of start time, fall into consecutive BASE/NEW couples ([`rounds::rounds`]).
fn round_pairs(
    b: &PooledCase<'_>,
    n: &PooledCase<'_>,
    starts: &BTreeMap<&str, &str>,
    metric: Metric,
) -> Vec<(f64, f64)> {
    let (base, new) = (run_medians(b, metric), run_medians(n, metric));
    let (bi, ni): (Vec<&str>, Vec<&str>) = (
        base.iter().map(|r| r.0).collect(),
        new.iter().map(|r| r.0).collect(),
    );
    rounds::rounds(&bi, &ni, starts)
        .into_iter()
        .map(|[i, j]| (base[i].1, new[j].1))
        .collect()
}

fn notes(b: &PooledCase<'_>, n: &PooledCase<'_>) -> Vec<String> {
    let mut notes: Vec<String> = Vec::new();
    for (side, c) in [("base", b), ("new", n)] {
        notes.extend(c.errors.iter().map(|e| format!("{side}: {e}")));
        if c.lengths.len() > 1 {
            notes.push(format!(
                "{side} pools iterations of different lengths ({})",
                c.lengths.join(", ")
            ));
        }
    }
    if b.lengths != n.lengths {
        notes.push(format!(
            "iteration length differs (base {}, new {}): tails and throughput may not be comparable",
            b.lengths.join("/"),
            n.lengths.join("/")
        ));
    }
    notes
}

fn environments(side: &Side) -> Vec<&crate::host::environment::Environment> {
    side.runs.iter().map(|r| &r.record.environment).collect()
}

/// Compares two sides; fails (as a usage error) on no common case, an unknown `--pair` id, or
/// differing environments under `strict_env`.
pub fn compare(base: &Side, new: &Side, options: &CompareOptions) -> Result<Comparison> {
    let environment = env::differences(&environments(base), &environments(new));
    if options.strict_env && !environment.is_empty() {
        let what: Vec<String> = environment
            .iter()
            .map(|d| format!("{} ({} vs {})", d.setting, d.base, d.new))
            .collect();
        return Err(UsageError(format!(
            "--strict-env: the environments differ in {}; measure both sides on the same setup, or drop --strict-env",
            what.join("; ")
        ))
        .into());
    }
    let (bp, np) = (pool(base), pool(new));
    let matched = match_cases(&bp, &np, &options.pairs)?;
    let starts: BTreeMap<&str, &str> = base
        .runs
        .iter()
        .chain(&new.runs)
        .map(|r| (r.record.run_id.as_str(), r.record.started_at.as_str()))
        .collect();
    let spans = turn_pairs::spans(base.runs.iter().chain(&new.runs).map(|r| &r.record));
    let mut inputs: Vec<(usize, MetricInput)> = Vec::new();
    let mut trusts = Vec::new();
    let mut turns = Vec::new();
    for (i, (b, n)) in matched.iter().enumerate() {
        let (bc, nc) = (&bp[b], &np[n]);
        // Separate runs are samples of their own (paired by round when they fall into rounds):
        // leaving out iterations must not empty a run, or drops its whole round.
        let round_list = rounds::rounds(&bc.run_ids, &nc.run_ids, &starts);
        let pairing = if bc.run_ids == nc.run_ids || options.unpaired {
            trust::Pairing::Iterations
        } else if round_list.is_empty() {
            trust::Pairing::WholeRuns
        } else {
            trust::Pairing::Rounds(&round_list)
        };
        let (t, bk, nk) = trust::assess(bc, nc, options.gate.min_iterations, &pairing);
        trusts.push(t);
        let turned = !options.unpaired && turn_pairs::took_turns(bc, nc, &round_list, &spans);
        turns.push(turned);
        let (bc, nc) = (&bc.filtered(&bk), &nc.filtered(&nk));
        for metric in Metric::ALL {
            let (bs, ns) = (samples(bc, metric), samples(nc, metric));
            if bs.values.is_empty() && ns.values.is_empty() {
                continue; // e.g. latency of a stream case
            }
            let unit = metric.unit(nc.spec.workload);
            // A case compared with itself has nothing to pair (and is an A/A check).
            let paired = if b == n && bc.run_ids == nc.run_ids {
                Vec::new()
            } else if bc.run_ids == nc.run_ids {
                time_pairs(bc, nc, metric)
            } else if options.unpaired {
                Vec::new()
            } else if turned {
                // A round dropped as disturbed has no iterations left: it adds no pair.
                turn_pairs::turn_pairs(bc, nc, &round_list, &spans, metric)
            } else {
                round_pairs(bc, nc, &starts, metric)
            };
            inputs.push((
                i,
                MetricInput {
                    metric,
                    unit,
                    base: bs,
                    new: ns,
                    paired,
                },
            ));
        }
    }
    let results = evaluate(
        &inputs.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>(),
        &options.gate,
    );
    let mut cases: Vec<CaseComparison> = matched
        .iter()
        .zip(trusts)
        .zip(turns)
        .map(|(((b, n), t), turned)| {
            let mut notes = notes(&bp[b], &np[n]);
            if turned {
                notes.push(
                    "base and new took turns iteration by iteration (`ab --interleave iterations`): \
                     each new iteration is paired with the base iteration measured next to it"
                        .into(),
                );
            }
            notes.push(t.note.clone());
            notes.extend(trust::canaries(&t));
            if let Some(d) = &t.canary_differs {
                notes.push(format!("the machine changed between base and new: {d}"));
            }
            CaseComparison {
                base_case: b.clone(),
                new_case: n.clone(),
                metrics: Vec::new(),
                notes,
                trust: Some(t),
            }
        })
        .collect();
    let mut counts = VerdictCounts::default();
    let mut results = results;
    for ((i, _), r) in inputs.iter().zip(results.iter_mut()) {
        let differs = cases[*i]
            .trust
            .as_ref()
            .and_then(|t| t.canary_differs.clone());
        if let (true, Some(d), true) = (options.strict_env, differs, r.gated) {
            r.verdict = Verdict::Inconclusive;
            r.reason = gate::Reason::CanaryDiffers(d);
            r.settle();
        }
    }
    for ((i, _), r) in inputs.iter().zip(results) {
        match r.verdict {
            Verdict::Regression => counts.regressions += 1,
            Verdict::Improvement => counts.improvements += 1,
            Verdict::NoChange => counts.no_change += 1,
            Verdict::Inconclusive => counts.inconclusive += 1,
            Verdict::NotGated => counts.not_gated += 1,
        }
        cases[*i].metrics.push(r);
    }
    let holm_family = cases
        .iter()
        .flat_map(|c| &c.metrics)
        .filter(|m| m.gated)
        .count();
    let in_pairs = |id: &CaseId| matched.iter().any(|(b, n)| b == id || n == id);
    let only = |m: &BTreeMap<CaseId, PooledCase<'_>>| {
        m.keys()
            .filter(|k| !in_pairs(k))
            .cloned()
            .collect::<Vec<_>>()
    };
    let mut comparison = Comparison {
        schema_version: SCHEMA_VERSION,
        config: options.gate.clone(),
        holm_family,
        base: run_summaries(base),
        new: run_summaries(new),
        only_in_base: only(&bp),
        only_in_new: only(&np),
        cases,
        environment,
        warnings: Vec::new(),
        counts,
        precision: None,
    };
    comparison.warnings = warnings(&comparison);
    for case in &comparison.cases {
        if let Some(d) = case.trust.as_ref().and_then(|t| t.canary_differs.as_ref()) {
            comparison.warnings.push(format!(
                "{}: the canaries differ between base and new ({d}): the machine changed, a changed figure may not be the program's{}",
                case.new_case,
                if options.strict_env {
                    "; --strict-env: its verdicts are inconclusive"
                } else {
                    "; --strict-env makes this inconclusive"
                }
            ));
        }
    }
    Ok(comparison)
}

/// Caveats: incomplete runs, and too few iterations for Holm's correction to ever reject.
fn warnings(c: &Comparison) -> Vec<String> {
    let mut w = Vec::new();
    for (side, runs) in [("base", &c.base), ("new", &c.new)] {
        for r in runs.iter().filter(|r| !r.complete) {
            w.push(format!(
                "{side} run {} is incomplete (interrupted or still running); its finished iterations are used",
                r.run_id
            ));
        }
    }
    if c.holm_family > 0 {
        let level = c.config.alpha / c.holm_family as f64;
        let blind = c
            .cases
            .iter()
            .flat_map(|k| &k.metrics)
            .filter(|m| m.gated)
            .filter(|m| {
                let best = if m.pairs > 0 {
                    0.5f64.powi(m.pairs as i32)
                } else {
                    crate::stats::min_attainable_p(m.base.iterations, m.new.iterations)
                };
                best > level
            })
            .count();
        if blind > 0 {
            let need = (1..1000)
                .find(|&n| crate::stats::min_attainable_p(n, n) <= level)
                .unwrap_or(1000);
            w.push(format!(
                "{blind} of {} gated comparisons have too few iterations to ever be significant: Holm's first step \
                 needs p ≤ {level:.1e}; run at least {need} iterations per side",
                c.holm_family
            ));
        }
    }
    w
}
