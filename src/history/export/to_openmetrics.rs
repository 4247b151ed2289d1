//! Rows as OpenMetrics: one gauge family per metric, in the spec's base units (latencies in
//! seconds), labelled by case, host, machine fingerprint and branch; plus `loopbench_run_info`
//! (value 1) that carries each run's id, commit, kernel and loopback settings, which would make
//! every run a series of its own as labels of the figures.
//!
//! With timestamps (a history: a backfill for `promtool tsdb create-blocks-from openmetrics`)
//! each point is stamped with its run's start; two runs of one series that started in the same
//! second are kept apart by a millisecond. Without (one run: a node_exporter textfile), the text
//! is the run's current values.

use std::collections::BTreeMap;

use anyhow::Result;

use super::openmetrics::{Family, Figure, MetricType, NANOS_PER_SECOND, render};
use super::rows::Row;

/// The family of `metric` with `unit` (`ns`, `msgs/s`, `bytes/s`), and the divisor from the
/// stored value to the family's unit (a division: 35455 ns / 1e9 is exactly 0.000035455 when
/// printed, 35455 × 1e-9 is not).
fn family_of(metric: &str, unit: &str) -> Option<(&'static str, f64)> {
    let to_seconds = NANOS_PER_SECOND;
    Some(match (metric, unit) {
        ("p50", _) => ("loopbench_latency_p50_seconds", to_seconds),
        ("p99", _) => ("loopbench_latency_p99_seconds", to_seconds),
        ("p99.9", _) => ("loopbench_latency_p99_9_seconds", to_seconds),
        ("throughput", "bytes/s") => ("loopbench_throughput_bytes_per_second", 1.0),
        ("throughput", _) => ("loopbench_throughput_messages_per_second", 1.0),
        ("receiver-cpu", _) => ("loopbench_receiver_cpu_per_message_seconds", to_seconds),
        _ => return None,
    })
}

/// The run-information family.
pub const RUN_INFO: &str = "loopbench_run_info";

/// Every family the export describes, in order.
pub fn families() -> Vec<Family> {
    let gauge = |name: &str, unit: Option<&str>, help: &str| Family {
        name: name.into(),
        metric_type: MetricType::Gauge,
        unit: unit.map(String::from),
        help: help.into(),
    };
    vec![
        gauge(
            "loopbench_latency_p50_seconds",
            Some("seconds"),
            "Median round-trip latency of a case in a run.",
        ),
        gauge(
            "loopbench_latency_p99_seconds",
            Some("seconds"),
            "99th percentile round-trip latency of a case in a run.",
        ),
        gauge(
            "loopbench_latency_p99_9_seconds",
            Some("seconds"),
            "99.9th percentile round-trip latency of a case in a run.",
        ),
        gauge(
            "loopbench_throughput_messages_per_second",
            None,
            "Messages per second of a case in a run, counted at the receiver.",
        ),
        gauge(
            "loopbench_throughput_bytes_per_second",
            None,
            "Payload bytes per second of a stream case in a run, counted at the receiver.",
        ),
        gauge(
            "loopbench_receiver_cpu_per_message_seconds",
            Some("seconds"),
            "CPU time the receiving side spent per message.",
        ),
        gauge(
            RUN_INFO,
            None,
            "A run's identity: run id, commit, kernel and loopback settings (value 1).",
        ),
    ]
}

fn put(labels: &mut BTreeMap<String, String>, name: &str, value: &Option<String>) {
    if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
        labels.insert(name.into(), v.clone());
    }
}

fn timestamp_ms(started_at: &str) -> Option<i64> {
    let t = humantime::parse_rfc3339(started_at).ok()?;
    let d = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(d.as_millis() as i64)
}

/// Renders `rows`; `timestamps` stamps every point with its run's start.
pub fn render_rows(rows: &[Row], timestamps: bool) -> Result<String> {
    let mut figures: Vec<Figure> = Vec::new();
    let mut runs: BTreeMap<(String, String), &Row> = BTreeMap::new();
    for row in rows {
        let Some((family, divisor)) = family_of(&row.metric, &row.unit) else {
            continue;
        };
        let mut labels = BTreeMap::new();
        labels.insert("case".to_string(), row.case_id.clone());
        labels.insert("host".to_string(), row.host.clone());
        labels.insert("fingerprint".to_string(), row.fingerprint.clone());
        put(&mut labels, "branch", &row.branch);
        figures.push(Figure {
            family: family.into(),
            labels,
            value: row.value / divisor,
            timestamp_ms: if timestamps {
                timestamp_ms(&row.started_at)
            } else {
                None
            },
        });
        runs.entry((row.fingerprint.clone(), row.run_id.clone()))
            .or_insert(row);
    }
    for row in runs.values() {
        let mut labels = BTreeMap::new();
        labels.insert("run_id".to_string(), row.run_id.clone());
        labels.insert("host".to_string(), row.host.clone());
        labels.insert("fingerprint".to_string(), row.fingerprint.clone());
        labels.insert("kernel".to_string(), row.kernel.clone());
        labels.insert("lo_settings".to_string(), row.lo_settings.clone());
        put(&mut labels, "commit", &row.commit);
        put(&mut labels, "branch", &row.branch);
        put(&mut labels, "label", &row.label);
        figures.push(Figure {
            family: RUN_INFO.into(),
            labels,
            value: 1.0,
            timestamp_ms: if timestamps {
                timestamp_ms(&row.started_at)
            } else {
                None
            },
        });
    }
    separate_equal_times(&mut figures);
    // Only families with points: the spec allows empty ones, but parsers differ on them (the
    // openmetrics-parser crate gives the next family's samples to an empty one).
    let used: Vec<Family> = families()
        .into_iter()
        .filter(|f| figures.iter().any(|g| g.family == f.name))
        .collect();
    Ok(render(&used, &figures)?)
}

/// Runs start-stamped to the second can share a timestamp within one series; the later (in
/// input order) moves on by a millisecond so the backfill keeps both.
fn separate_equal_times(figures: &mut [Figure]) {
    let mut last: BTreeMap<(String, Vec<(String, String)>), i64> = BTreeMap::new();
    let mut order: Vec<usize> = (0..figures.len()).collect();
    order.sort_by_key(|&i| figures[i].timestamp_ms);
    for i in order {
        let f = &mut figures[i];
        let Some(ts) = f.timestamp_ms else { continue };
        let key = (f.family.clone(), f.labels.clone().into_iter().collect());
        let next = match last.get(&key) {
            Some(&prev) if ts <= prev => prev + 1,
            _ => ts,
        };
        f.timestamp_ms = Some(next);
        last.insert(key, next);
    }
}
