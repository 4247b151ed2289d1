//! One figure per row: a run's metric for one case, with everything that identifies it (run,
//! time, machine, commit, branch) and its per-iteration values. Rows come from a history
//! ([`from_history`]) or from one run ([`from_run`]).

use serde::Serialize;

use crate::history::db::{History, HistoryError, SeriesFilter};
use crate::history::figures::{RunFigures, unit_name};

/// One figure of one run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// The run.
    pub run_id: String,
    /// RFC 3339 start time.
    pub started_at: String,
    /// Commit measured.
    pub commit: Option<String>,
    /// Branch.
    pub branch: Option<String>,
    /// Label.
    pub label: Option<String>,
    /// Host name.
    pub host: String,
    /// Machine fingerprint.
    pub fingerprint: String,
    /// Kernel release.
    pub kernel: String,
    /// Loopback settings.
    pub lo_settings: String,
    /// Case id.
    pub case_id: String,
    /// Metric name (`p50`, `p99`, `p99.9`, `throughput`, `receiver-cpu`).
    pub metric: String,
    /// Unit (`ns`, `msgs/s`, `bytes/s`).
    pub unit: String,
    /// The run's figure.
    pub value: f64,
    /// Per-iteration values, in the order they ran.
    pub iterations: Vec<f64>,
}

/// Every figure of the runs matching `filter`, by case, machine and metric, oldest first.
pub fn from_history(history: &History, filter: &SeriesFilter) -> Result<Vec<Row>, HistoryError> {
    let mut out = Vec::new();
    for case in history.case_ids(filter)? {
        for machine in history.case_series(&case, None, filter)? {
            for (metric, points) in machine.metrics {
                out.extend(points.into_iter().map(|p| Row {
                    run_id: p.run_id,
                    started_at: p.started_at,
                    commit: p.commit,
                    branch: p.branch,
                    label: p.label,
                    host: p.host,
                    fingerprint: p.fingerprint,
                    kernel: p.kernel,
                    lo_settings: p.lo_settings,
                    case_id: case.clone(),
                    metric: metric.clone(),
                    unit: p.unit,
                    value: p.value,
                    iterations: p.iterations,
                }));
            }
        }
    }
    Ok(out)
}

/// Every finite figure of one run.
pub fn from_run(run: &RunFigures) -> Vec<Row> {
    let env = &run.environment;
    let mut out = Vec::new();
    for case in &run.cases {
        for (metric, value) in case.summary.named() {
            if !value.is_finite() {
                continue;
            }
            let iterations = case
                .iterations
                .iter()
                .filter_map(|it| it.named().into_iter().find(|(m, _)| *m == metric))
                .map(|(_, v)| v)
                .collect();
            out.push(Row {
                run_id: run.run_id.clone(),
                started_at: run.started_at.clone(),
                commit: run.commit.clone(),
                branch: run.branch.clone(),
                label: run.label.clone(),
                host: env.host.clone(),
                fingerprint: env.machine_fingerprint(),
                kernel: env.kernel.clone(),
                lo_settings: env.lo_settings.clone(),
                case_id: case.case_id.clone(),
                metric: metric.name().to_string(),
                unit: unit_name(case.unit(metric)).to_string(),
                value,
                iterations,
            });
        }
    }
    out
}
