//! `history show`: one case's metric over the runs, in start order, with each run's interval
//! (the bootstrap interval of the median of its iteration values), the change points, and each
//! segment's median: as a table, and as a chart for the HTML page.

use anyhow::{Result, bail};
use serde::Serialize;

use super::changepoint::{Analysis, Config, Series, detect};
use super::db::{History, SeriesFilter, SeriesPoint};
use crate::compare::output::{unit_label, value};
use crate::error::UsageError;
use crate::report::plots::history::{TrendChart, TrendPoint};
use crate::stats::{median, median_with_interval};
use crate::store::metric::{Metric, Unit};
use crate::text::align;

/// Resamples of each run's interval.
const RESAMPLES: usize = 1000;

/// One series with its analysis.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct ShowReport {
    /// Layout version ([`crate::history::db::SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The case.
    pub case_id: String,
    /// The metric.
    pub metric: Metric,
    /// Its unit.
    pub unit: Unit,
    /// The runs, oldest first.
    pub points: Vec<SeriesPoint>,
    /// Per run, the 95 % interval of the median of its iterations (`None` with fewer than two).
    pub intervals: Vec<Option<(f64, f64)>>,
    /// Change points and segments.
    pub analysis: Analysis,
}

/// Reads and analyses the series of `case_id`'s `metric`.
pub fn show(
    history: &History,
    case_id: &str,
    metric: Metric,
    filter: &SeriesFilter,
    config: &Config,
) -> Result<ShowReport> {
    let points: Vec<SeriesPoint> = history
        .series(case_id, metric.name(), filter)?
        .into_iter()
        .filter(|p| p.value.is_finite() && p.value > 0.0)
        .collect();
    if points.is_empty() {
        let known = history.case_ids(filter)?;
        bail!(UsageError(format!(
            "the history has no {metric} figures of case {case_id} for these filters; its cases: {}",
            if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            }
        )));
    }
    let series = Series {
        values: points.iter().map(|p| p.value).collect(),
        iterations: points.iter().map(|p| p.iterations.clone()).collect(),
    };
    let analysis = detect(&series, config)?;
    let intervals = points
        .iter()
        .map(|p| {
            (p.iterations.len() >= 2)
                .then(|| {
                    median_with_interval(&p.iterations, config.confidence, config.seed, RESAMPLES)
                        .ok()
                })
                .flatten()
                .map(|e| {
                    (
                        e.confidence_interval.lower_bound,
                        e.confidence_interval.upper_bound,
                    )
                })
        })
        .collect();
    let unit = match points[0].unit.as_str() {
        "bytes/s" => Unit::BytesPerSec,
        "msgs/s" => Unit::MsgsPerSec,
        _ => Unit::Nanoseconds,
    };
    Ok(ShowReport {
        schema_version: crate::history::db::SCHEMA_VERSION,
        case_id: case_id.into(),
        metric,
        unit,
        points,
        intervals,
        analysis,
    })
}

fn short(commit: &Option<String>) -> String {
    commit
        .as_deref()
        .map(|c| c.chars().take(10).collect())
        .unwrap_or_else(|| "-".into())
}

impl ShowReport {
    /// A figure in display units (µs, msgs/s, Gbit/s) as a number for the chart.
    fn display(&self, v: f64) -> f64 {
        match self.unit {
            Unit::Nanoseconds => v / 1000.0,
            Unit::MsgsPerSec => v,
            Unit::BytesPerSec => v * 8.0 / 1e9,
        }
    }

    /// The table rows: run, start, commit, branch, figure, interval, and a mark where a change
    /// point starts a new segment.
    pub fn rows(&self) -> Vec<Vec<String>> {
        let starts: Vec<usize> = self
            .analysis
            .change_points
            .iter()
            .map(|c| c.index)
            .collect();
        self.points
            .iter()
            .zip(&self.intervals)
            .enumerate()
            .map(|(i, (p, ci))| {
                let mark = match self.analysis.change_points.iter().find(|c| c.index == i) {
                    Some(c) => format!(
                        "change point: {}",
                        crate::compare::output::change(c.ratio.point)
                    ),
                    None if starts.is_empty() && i == 0 => String::new(),
                    None => String::new(),
                };
                vec![
                    (i + 1).to_string(),
                    crate::store::record::short_time(&p.started_at),
                    short(&p.commit),
                    p.branch.clone().unwrap_or_else(|| "-".into()),
                    value(self.unit, p.value),
                    ci.map(|(l, u)| format!("{} – {}", value(self.unit, l), value(self.unit, u)))
                        .unwrap_or_else(|| "-".into()),
                    mark,
                ]
            })
            .collect()
    }

    /// The table header.
    pub fn header(&self) -> Vec<String> {
        let u = unit_label(self.unit);
        ["#", "started (UTC)", "commit", "branch"]
            .iter()
            .map(|s| s.to_string())
            .chain([
                format!("{} ({u})", self.metric),
                "95 % interval".into(),
                "".into(),
            ])
            .collect()
    }

    /// The aligned text table with a line on the machine and the change points.
    pub fn table(&self) -> String {
        let newest = self.points.last().expect("a report has points");
        let mut out = format!(
            "{} {} on {} ({}), {} runs\n\n",
            self.case_id,
            self.metric,
            newest.host,
            newest.fingerprint,
            self.points.len()
        );
        out.push_str(&align(&self.header(), &self.rows()));
        if self.analysis.too_short {
            out.push_str("\ntoo few runs to look for change points (6 are needed)\n");
        }
        out
    }

    /// The chart: per run its figure and interval, the segments' medians and the change points.
    pub fn chart(&self) -> TrendChart {
        let host = &self.points.last().expect("a report has points").host;
        TrendChart {
            title: format!("{} {} on {host}", self.case_id, self.metric),
            y_label: format!("{} ({})", self.metric, unit_label(self.unit)),
            points: self
                .points
                .iter()
                .zip(&self.intervals)
                .map(|(p, ci)| TrendPoint {
                    label: p
                        .commit
                        .as_deref()
                        .map(|c| c.chars().take(7).collect())
                        .unwrap_or_else(|| {
                            p.started_at.get(5..10).unwrap_or(&p.started_at).to_string()
                        }),
                    value: self.display(p.value),
                    interval: ci.map(|(l, u)| (self.display(l), self.display(u))),
                })
                .collect(),
            change_points: self
                .analysis
                .change_points
                .iter()
                .map(|c| c.index)
                .collect(),
            segments: self
                .analysis
                .segments()
                .into_iter()
                .map(|r| {
                    let values: Vec<f64> = self.points[r.clone()].iter().map(|p| p.value).collect();
                    (r.start, r.end, self.display(median(&values)))
                })
                .collect(),
        }
    }
}
