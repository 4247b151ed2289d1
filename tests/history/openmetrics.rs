//! The OpenMetrics export read back by real parsers: the `openmetrics-parser` crate (a pest
//! grammar of the spec's ABNF) and Python's `prometheus_client.openmetrics.parser`, which is
//! what Prometheus's own client library uses and which is strict about timestamps going
//! backwards, `_total` and units.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use loopbench::history::export::openmetrics::{
    Family, Figure, MetricType, NANOS_PER_SECOND, OpenMetricsError, render,
};
use openmetrics_parser::openmetrics::parse_openmetrics;
use openmetrics_parser::{MetricNumber, OpenMetricsType, OpenMetricsValue};

/// A label value with everything that needs escaping.
const NASTY: &str = "tune \"a\\b\"\nsecond line";

fn families() -> Vec<Family> {
    vec![
        Family {
            name: "loopbench_latency_p50_seconds".into(),
            metric_type: MetricType::Gauge,
            unit: Some("seconds".into()),
            help: "Median round-trip latency of a case, per run (\"p50\").".into(),
        },
        Family {
            name: "loopbench_messages".into(),
            metric_type: MetricType::Counter,
            unit: None,
            help: "Messages counted over a run's measured iterations.".into(),
        },
    ]
}

fn labels(run: &str, label: &str) -> BTreeMap<String, String> {
    [
        ("case", "tcp4-rr-blocking-cross-core-64B"),
        ("host", "bench-01"),
        ("commit", "4f2a9c1"),
        ("branch", "main"),
        ("run_id", run),
        ("label", label),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// One point per series (the run id is a label), as the crate parser requires.
fn per_run_figures() -> Vec<Figure> {
    let mut out = Vec::new();
    for (k, run) in ["20261127T183705Z-4f2a", "20261128T090000Z-aa01"]
        .iter()
        .enumerate()
    {
        let label = if k == 0 { NASTY } else { "plain" };
        out.push(Figure {
            family: "loopbench_latency_p50_seconds".into(),
            labels: labels(run, label),
            value: (18_500.0 + 100.0 * k as f64) / NANOS_PER_SECOND,
            timestamp_ms: Some(1_764_268_625_000 + 86_400_000 * k as i64),
        });
        out.push(Figure {
            family: "loopbench_messages".into(),
            labels: labels(run, label),
            value: 1_000_000.0 + k as f64,
            timestamp_ms: Some(1_764_268_625_123 + 86_400_000 * k as i64),
        });
    }
    out
}

#[test]
fn the_crate_parser_reads_types_units_help_labels_and_values_back() {
    let text = render(&families(), &per_run_figures()).unwrap();
    let exposition = parse_openmetrics(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    let latency = &exposition.families["loopbench_latency_p50_seconds"];
    assert_eq!(latency.family_type, OpenMetricsType::Gauge);
    assert_eq!(latency.unit, "seconds");
    assert_eq!(
        latency.help,
        "Median round-trip latency of a case, per run (\"p50\")."
    );
    let sample = latency
        .iter_samples()
        .find(|s| s.timestamp == Some(1_764_268_625.0))
        .expect("the first run's sample");
    let read: BTreeMap<String, String> = sample
        .get_labelset()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(read, labels("20261127T183705Z-4f2a", NASTY));
    match &sample.value {
        OpenMetricsValue::Gauge(MetricNumber::Float(v)) => assert!((v - 18.5e-6).abs() < 1e-15),
        other => panic!("{other:?}"),
    }
    let messages = &exposition.families["loopbench_messages"];
    assert_eq!(messages.family_type, OpenMetricsType::Counter);
    let mut totals: Vec<f64> = messages
        .iter_samples()
        .map(|s| match &s.value {
            OpenMetricsValue::Counter(c) => match c.value {
                MetricNumber::Float(v) => v,
                MetricNumber::Int(v) => v as f64,
            },
            other => panic!("{other:?}"),
        })
        .collect();
    totals.sort_by(f64::total_cmp);
    assert_eq!(totals, [1_000_000.0, 1_000_001.0]);
    assert!(
        text.contains(r#"label="tune \"a\\b\"\nsecond line""#),
        "{text}"
    );
}

#[test]
fn counters_end_in_total_and_the_text_ends_in_eof() {
    let text = render(&families(), &per_run_figures()).unwrap();
    assert!(text.ends_with("# EOF\n"));
    assert!(text.contains("\nloopbench_messages_total{"));
    assert!(text.contains("# UNIT loopbench_latency_p50_seconds seconds\n"));
    assert!(text.contains(" 1764268625.123\n"));
}

#[test]
fn the_points_of_one_series_are_sorted_and_duplicates_refused() {
    let fams = families();
    let point = |ms: i64, v: f64| Figure {
        family: "loopbench_latency_p50_seconds".into(),
        labels: labels("any", "x"),
        value: v,
        timestamp_ms: Some(ms),
    };
    let text = render(
        &fams,
        &[point(3000, 3.0), point(1000, 1.0), point(2000, 2.0)],
    )
    .unwrap();
    let times: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.rsplit(' ').next().unwrap())
        .collect();
    assert_eq!(times, ["1", "2", "3"]);
    assert!(matches!(
        render(&fams, &[point(1000, 1.0), point(1000, 2.0)]),
        Err(OpenMetricsError::DuplicatePoint(..))
    ));
    let negative = Figure {
        family: "loopbench_messages".into(),
        value: -1.0,
        ..point(1, 1.0)
    };
    assert!(matches!(
        render(&fams, &[negative]),
        Err(OpenMetricsError::BadCounter(..))
    ));
    let unknown = Figure {
        family: "nope".into(),
        ..point(1, 1.0)
    };
    assert!(matches!(
        render(&fams, &[unknown]),
        Err(OpenMetricsError::UnknownFamily(_))
    ));
    let mut bad_label = point(1, 1.0);
    bad_label.labels.insert("__reserved".into(), "x".into());
    assert!(matches!(
        render(&fams, &[bad_label]),
        Err(OpenMetricsError::BadName(_, "label"))
    ));
}

/// Backfill shape (several points per series) read by Python's parser; it prints what it read
/// as JSON lines, which the test compares.
#[test]
#[ignore = "needs python3 with prometheus_client (.ci/run installs it)"]
fn python_prometheus_client_reads_a_backfill_with_escapes() {
    let mut figures = Vec::new();
    for k in 0..3i64 {
        let mut l = labels("", NASTY);
        l.remove("run_id");
        figures.push(Figure {
            family: "loopbench_latency_p50_seconds".into(),
            labels: l,
            value: (18_000 + k) as f64 / NANOS_PER_SECOND,
            timestamp_ms: Some(1_764_268_625_000 + 1000 * (2 - k)),
        });
    }
    let text = render(&families(), &figures).unwrap();
    let script = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
for f in text_string_to_metric_families(sys.stdin.read()):
    for s in f.samples:
        print(json.dumps([f.name, f.type, f.unit, f.documentation, s.name, s.labels, s.value,
                          float(s.timestamp.sec + s.timestamp.nsec / 1e9)]))
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    for (k, row) in rows.iter().enumerate() {
        assert_eq!(row[0], "loopbench_latency_p50_seconds");
        assert_eq!(row[1], "gauge");
        assert_eq!(row[2], "seconds");
        assert_eq!(
            row[3],
            "Median round-trip latency of a case, per run (\"p50\")."
        );
        assert_eq!(row[4], "loopbench_latency_p50_seconds");
        assert_eq!(row[5]["label"], NASTY);
        assert_eq!(row[5]["case"], "tcp4-rr-blocking-cross-core-64B");
        // Sorted by time: the k-th point is the one written with 2 - k.
        let expected = (18_000 + 2 - k as i64) as f64 / NANOS_PER_SECOND;
        assert!((row[6].as_f64().unwrap() - expected).abs() < 1e-15);
        assert_eq!(row[7].as_f64().unwrap(), 1_764_268_625.0 + k as f64);
    }
}
