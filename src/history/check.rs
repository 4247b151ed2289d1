//! `history check`: change points of every case's metrics on every machine, and the verdict on
//! each series' newest segment (see [`changepoint`](super::changepoint) for the method).
//!
//! A case's metrics are read together (two queries per case) and the cases are spread over the
//! CPUs, each worker thread with its own connection: on a 2-CPU machine a check of 30 cases ×
//! 1000 runs reads and analyses every metric in well under the 2 s the issue allows (README,
//! "History and trends", has the measured figures).
//!
//! Gating follows `compare`: a series fails the check (exit 1) when its verdict is a regression
//! and its metric is gated — p50, throughput and receiver CPU always, p99 only when every run's
//! iterations each hold at least 100 000 latency samples, p99.9 never (reported only).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};
use serde::Serialize;

use super::changepoint::{
    Config, RegressionRule, Series, Significance, Verdict, detect, judge_newest,
};
use super::db::{History, SeriesFilter, SeriesPoint};
use crate::compare::metric::Thresholds;
use crate::stats::Estimate;
use crate::store::metric::{Gating, Metric, Unit};

/// Version of the JSON layout of a [`CheckReport`] (docs/schema/history-check.schema.json). 2:
/// the field was called `format_version` before.
pub const CHECK_SCHEMA_VERSION: u32 = 2;

/// What to check and how.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Which runs (branch, host, machine, kernel).
    pub filter: SeriesFilter,
    /// Only these cases (all when empty).
    pub cases: Vec<String>,
    /// Only these metrics (all stored when empty).
    pub metrics: Vec<Metric>,
    /// The change-point method and its settings.
    pub config: Config,
    /// The regression thresholds (the gate's, `--threshold`).
    pub thresholds: Thresholds,
    /// Judge only a newest change point within this many runs of the end.
    pub max_age: Option<usize>,
    /// Worker threads (at least 1).
    pub threads: usize,
}

/// Which way a change point went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The metric got worse (latency up, throughput down).
    Worse,
    /// It got better.
    Better,
}

/// One change point, named by the run and commit where the new segment starts.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ChangePointReport {
    /// Position of the first run of the new segment in the series (0-based).
    pub index: usize,
    /// That run.
    pub run_id: String,
    /// Its start time.
    pub started_at: String,
    /// Its commit: where the change starts.
    pub commit: Option<String>,
    /// The commit of the run before it (the change lies between the two).
    pub previous_commit: Option<String>,
    /// p-value of the split (Bonferroni-adjusted for the Student test).
    pub p_value: f64,
    /// median(after)/median(before) with its bootstrap interval.
    pub ratio: Estimate,
    /// Worse or better.
    pub direction: Direction,
    /// What else changed between the two runs (kernel, loopback settings): a likely cause.
    pub changed: Vec<String>,
}

/// The result for one series: a case's metric on one machine.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SeriesCheck {
    /// The case.
    pub case_id: String,
    /// The metric.
    pub metric: Metric,
    /// Its unit.
    pub unit: Unit,
    /// Host name (of the newest run).
    pub host: String,
    /// The machine fingerprint.
    pub fingerprint: String,
    /// Runs analysed.
    pub runs: usize,
    /// True when there were too few runs to test (fewer than twice the minimum segment).
    pub too_short: bool,
    /// Every change point, oldest first.
    pub change_points: Vec<ChangePointReport>,
    /// The newest segment's verdict.
    pub verdict: Verdict,
    /// True when this metric can fail the check.
    pub gated: bool,
    /// The noise threshold used (fraction).
    pub threshold: f64,
    /// Where the worsening began (the first step of the staircase), when judged.
    pub since: Option<ChangePointReport>,
    /// Change points in that staircase.
    pub steps: usize,
    /// median(newest segment)/median(reference), with its interval.
    pub ratio: Option<Estimate>,
    /// Largest p-value among the staircase's steps.
    pub p_value: Option<f64>,
    /// What the reader should know (runs left out, why a metric is not gated).
    pub notes: Vec<String>,
}

impl SeriesCheck {
    /// True when this series fails the check.
    pub fn fails(&self) -> bool {
        self.gated && self.verdict == Verdict::Regression
    }
}

/// Everything `history check` found.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CheckReport {
    /// Layout version ([`CHECK_SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The method in one sentence.
    pub method: String,
    /// Every series, by case, metric and machine.
    pub series: Vec<SeriesCheck>,
}

impl CheckReport {
    /// The series that fail the check.
    pub fn regressions(&self) -> impl Iterator<Item = &SeriesCheck> {
        self.series.iter().filter(|s| s.fails())
    }
}

/// The method, as the reports state it.
pub fn method(options: &CheckOptions) -> String {
    let c = &options.config;
    let test = match c.significance {
        Significance::Student => {
            "Student's t-test on log figures, Bonferroni over the segment's candidate splits".into()
        }
        Significance::Permutation { permutations } => {
            format!("a permutation test ({permutations} permutations)")
        }
    };
    format!(
        "E-divisive means (Matteson & James 2014) on each series of per-run figures in start order; \
         a change point needs {} runs on each side and p ≤ {} by {test}. A series fails when its \
         newest segment, against the segment before its latest run of worsening steps, has a \
         {:.0} % interval wholly beyond the gate's threshold.",
        c.min_size,
        c.alpha,
        c.confidence * 100.0
    )
}

fn change_point_report(
    points: &[SeriesPoint],
    index: usize,
    p_value: f64,
    ratio: Estimate,
    lower_is_better: bool,
) -> ChangePointReport {
    let (before, at) = (&points[index - 1], &points[index]);
    let mut changed = Vec::new();
    if before.kernel != at.kernel {
        changed.push(format!("kernel {} → {}", before.kernel, at.kernel));
    }
    if before.lo_settings != at.lo_settings {
        changed.push(format!(
            "loopback {} → {}",
            before.lo_settings, at.lo_settings
        ));
    }
    let worse = if lower_is_better {
        ratio.point > 1.0
    } else {
        ratio.point < 1.0
    };
    ChangePointReport {
        index,
        run_id: at.run_id.clone(),
        started_at: at.started_at.clone(),
        commit: at.commit.clone(),
        previous_commit: before.commit.clone(),
        p_value,
        ratio,
        direction: if worse {
            Direction::Worse
        } else {
            Direction::Better
        },
        changed,
    }
}

fn unit_of(name: &str) -> Unit {
    match name {
        "bytes/s" => Unit::BytesPerSec,
        "msgs/s" => Unit::MsgsPerSec,
        _ => Unit::Nanoseconds,
    }
}

/// Checks one series (`points` oldest first).
pub fn check_series(
    case_id: &str,
    metric: Metric,
    points: &[SeriesPoint],
    options: &CheckOptions,
) -> Result<SeriesCheck> {
    let mut notes = Vec::new();
    let usable: Vec<SeriesPoint> = points
        .iter()
        .filter(|p| p.value.is_finite() && p.value > 0.0)
        .cloned()
        .collect();
    if usable.len() < points.len() {
        notes.push(format!(
            "{} run(s) without a positive figure left out",
            points.len() - usable.len()
        ));
    }
    let series = Series {
        values: usable.iter().map(|p| p.value).collect(),
        iterations: usable.iter().map(|p| p.iterations.clone()).collect(),
    };
    let config = &options.config;
    let analysis = detect(&series, config).with_context(|| format!("{case_id} {metric}"))?;
    let threshold = options.thresholds.get(metric);
    let rule = RegressionRule {
        threshold,
        lower_is_better: metric.lower_is_better(),
        max_age: options.max_age,
    };
    let judgement = judge_newest(&series, &analysis, &rule, config);
    let gated = match metric.gating() {
        Gating::Always => true,
        Gating::Never => {
            notes.push(format!("{metric} is reported, never gated"));
            false
        }
        Gating::MinSamples(n) => {
            let enough = usable
                .iter()
                .all(|p| p.min_latency_samples.is_some_and(|s| s >= n));
            if !enough {
                notes.push(format!(
                    "{metric} is gated only when every iteration holds at least {n} latency samples"
                ));
            }
            enough
        }
    };
    let report = |index: usize| {
        let cp = analysis.change_points.iter().find(|c| c.index == index);
        cp.map(|c| {
            change_point_report(
                &usable,
                c.index,
                c.p_value,
                c.ratio,
                metric.lower_is_better(),
            )
        })
    };
    let newest = usable.last();
    Ok(SeriesCheck {
        case_id: case_id.to_string(),
        metric,
        unit: unit_of(newest.map_or("ns", |p| p.unit.as_str())),
        host: newest.map(|p| p.host.clone()).unwrap_or_default(),
        fingerprint: newest.map(|p| p.fingerprint.clone()).unwrap_or_default(),
        runs: usable.len(),
        too_short: analysis.too_short,
        change_points: analysis
            .change_points
            .iter()
            .filter_map(|c| report(c.index))
            .collect(),
        verdict: judgement.verdict,
        gated,
        threshold,
        since: judgement.since.and_then(report),
        steps: judgement.steps,
        ratio: judgement.ratio,
        p_value: judgement.p_value,
        notes,
    })
}

/// Checks every series of one case (all machines).
fn check_case(
    history: &History,
    case_id: &str,
    options: &CheckOptions,
) -> Result<Vec<SeriesCheck>> {
    let mut out = Vec::new();
    let metric = match options.metrics.as_slice() {
        [one] => Some(one.name()),
        _ => None,
    };
    for machine in history.case_series(case_id, metric, &options.filter)? {
        for (name, points) in &machine.metrics {
            let Ok(metric) = name.parse::<Metric>() else {
                continue;
            };
            if !options.metrics.is_empty() && !options.metrics.contains(&metric) {
                continue;
            }
            out.push(check_series(case_id, metric, points, options)?);
        }
    }
    Ok(out)
}

/// Checks the history at `path`: every case (or those asked for), spread over
/// `options.threads` threads with a connection each.
pub fn check(path: &Path, options: &CheckOptions) -> Result<CheckReport> {
    let history = History::open(path)?;
    let mut cases = history.case_ids(&options.filter)?;
    if !options.cases.is_empty() {
        cases.retain(|c| options.cases.contains(c));
    }
    let next = AtomicUsize::new(0);
    let results: Mutex<BTreeMap<usize, Vec<SeriesCheck>>> = Mutex::new(BTreeMap::new());
    let threads = options.threads.clamp(1, cases.len().max(1));
    std::thread::scope(|s| -> Result<()> {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| -> Result<()> {
                    let history = History::open(path)?;
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(case) = cases.get(k) else {
                            return Ok(());
                        };
                        let found = check_case(&history, case, options)?;
                        results
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(k, found);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap_or_else(|p| std::panic::resume_unwind(p))?;
        }
        Ok(())
    })?;
    let series = results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_values()
        .flatten()
        .collect();
    Ok(CheckReport {
        schema_version: CHECK_SCHEMA_VERSION,
        method: method(options),
        series,
    })
}
