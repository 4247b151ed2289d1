//! One run's rows as a Bencher Metric Format report: benchmark = case id, measures `latency`
//! (p50, built in, ns), `throughput` (messages/s, built in), and the custom `latency-p99`,
//! `latency-p99-9`, `throughput-bytes` and `cpu-per-message`. `lower_value`/`upper_value` are
//! the 95 % bootstrap interval of the median of the run's iteration values, when it has at least
//! two iterations.

use anyhow::{Result, bail};

use super::bmf::{
    CPU_PER_MESSAGE, LATENCY, LATENCY_P99, LATENCY_P999, Metric, Report, THROUGHPUT,
    THROUGHPUT_BYTES, render,
};
use super::rows::Row;
use crate::stats::median_with_interval;

/// Seed of the intervals: the same run gives the same report.
const SEED: u64 = 1;

fn measure(row: &Row) -> Option<&'static str> {
    Some(match (row.metric.as_str(), row.unit.as_str()) {
        ("p50", _) => LATENCY,
        ("p99", _) => LATENCY_P99,
        ("p99.9", _) => LATENCY_P999,
        ("throughput", "bytes/s") => THROUGHPUT_BYTES,
        ("throughput", _) => THROUGHPUT,
        ("receiver-cpu", _) => CPU_PER_MESSAGE,
        _ => return None,
    })
}

/// The BMF report of `rows`, which must all come from one run.
pub fn render_rows(rows: &[Row]) -> Result<String> {
    let mut ids: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.run_id.as_str(), r.fingerprint.as_str()))
        .collect();
    ids.dedup();
    if ids.len() > 1 {
        bail!(crate::error::UsageError(
            "a BMF report holds one run: choose it with --run RUN_ID (default: the newest run that matches the filters)".into()
        ));
    }
    let mut report = Report::new();
    for row in rows {
        let Some(name) = measure(row) else { continue };
        let bounds = (row.iterations.len() >= 2)
            .then(|| median_with_interval(&row.iterations, 0.95, SEED, 1000).ok())
            .flatten()
            .map(|e| e.confidence_interval)
            .filter(|ci| ci.lower_bound <= row.value && row.value <= ci.upper_bound);
        report.entry(row.case_id.clone()).or_default().insert(
            name.to_string(),
            Metric {
                value: row.value,
                lower_value: bounds.map(|ci| ci.lower_bound),
                upper_value: bounds.map(|ci| ci.upper_bound),
            },
        );
    }
    Ok(render(&report)? + "\n")
}
