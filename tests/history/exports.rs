//! What `history export` and `run --export-openmetrics` write, from a real history file, read
//! back by the tools the issue names: the `openmetrics-parser` crate (one run, no timestamps: a
//! node_exporter textfile), Python's `prometheus_client` parser (the whole history as a
//! backfill) and Bencher's published BMF schema.

use std::io::Write;
use std::process::{Command, Stdio};

use loopbench::history::db::{History, SeriesFilter};
use loopbench::history::export::rows::{Row, from_history, from_run};
use loopbench::history::export::{to_bmf, to_openmetrics};
use openmetrics_parser::openmetrics::parse_openmetrics;
use openmetrics_parser::{MetricNumber, OpenMetricsValue};

use crate::bmf::BMF_SCHEMA;
use crate::store::run;

const CASE: &str = "tcp4-rr-blocking-cross-core-64B";
/// A label with everything OpenMetrics must escape.
const LABEL: &str = "tune \"a\\b\"\nsecond line";

/// Three runs of one machine, the second labelled, in a fresh history file; its rows.
fn history_rows(dir: &std::path::Path) -> Vec<Row> {
    let mut h = History::open(&dir.join("history.sqlite")).unwrap();
    for (k, p50) in [18_000.0, 18_500.0, 19_000.0].into_iter().enumerate() {
        let mut r = run(&format!("run-{k}"), k as u32, "bench-01", "main", p50);
        if k == 1 {
            r.label = Some(LABEL.into());
        }
        h.add(&r).unwrap();
    }
    from_history(&h, &SeriesFilter::default()).unwrap()
}

fn gauge(v: &OpenMetricsValue) -> f64 {
    match v {
        OpenMetricsValue::Gauge(MetricNumber::Float(x)) => *x,
        OpenMetricsValue::Gauge(MetricNumber::Int(x)) => *x as f64,
        other => panic!("not a gauge: {other:?}"),
    }
}

#[test]
fn one_runs_export_parses_with_the_openmetrics_crate() {
    let figures = run("run-1", 1, "bench-01", "main", 18_500.0);
    let text = to_openmetrics::render_rows(&from_run(&figures), false).unwrap();
    let exposition = parse_openmetrics(&text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    let p50 = &exposition.families["loopbench_latency_p50_seconds"];
    assert_eq!(p50.unit, "seconds");
    let samples: Vec<_> = p50.iter_samples().collect();
    assert_eq!(samples.len(), 1, "{text}");
    assert!((gauge(&samples[0].value) - 18.5e-6).abs() < 1e-15, "{text}");
    assert_eq!(samples[0].timestamp, None);
    let labels = samples[0].get_labelset().unwrap();
    let case = labels.iter().find(|(k, _)| k.as_str() == "case");
    assert_eq!(case.map(|(_, v)| v.as_str()), Some(CASE), "{text}");
    let throughput = &exposition.families["loopbench_throughput_messages_per_second"];
    let value = gauge(&throughput.iter_samples().next().unwrap().value);
    assert!((value - 1e9 / 18_500.0).abs() < 1e-6, "{text}");
    let info = &exposition.families["loopbench_run_info"];
    let info_labels = info.iter_samples().next().unwrap().get_labelset().unwrap();
    let commit = info_labels.iter().find(|(k, _)| k.as_str() == "commit");
    assert_eq!(commit.map(|(_, v)| v.as_str()), Some("c01"), "{text}");
}

/// The whole history as `history export --format openmetrics` writes it (a backfill: three
/// timestamped points per series) read by Python's parser, which prints what it read.
#[test]
#[ignore = "needs python3 with prometheus_client (.ci/run installs it)"]
fn the_history_backfill_parses_with_prometheus_client() {
    let dir = tempfile::tempdir().unwrap();
    let text = to_openmetrics::render_rows(&history_rows(dir.path()), true).unwrap();
    let script = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
for f in text_string_to_metric_families(sys.stdin.read()):
    for s in f.samples:
        print(json.dumps([f.name, s.labels, s.value, float(s.timestamp.sec + s.timestamp.nsec / 1e9)]))
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(text.as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{text}");
    let read: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let p50: Vec<&serde_json::Value> = read
        .iter()
        .filter(|r| r[0] == "loopbench_latency_p50_seconds")
        .collect();
    assert_eq!(p50.len(), 3, "{text}");
    for (k, point) in p50.iter().enumerate() {
        assert_eq!(point[1]["case"], CASE);
        let expected = (18_000.0 + 500.0 * k as f64) / 1e9;
        assert!(
            (point[2].as_f64().unwrap() - expected).abs() < 1e-15,
            "{text}"
        );
    }
    let times: Vec<f64> = p50.iter().map(|p| p[3].as_f64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    let infos: Vec<&serde_json::Value> = read
        .iter()
        .filter(|r| r[0] == "loopbench_run_info")
        .collect();
    assert_eq!(infos.len(), 3, "{text}");
    assert!(infos.iter().any(|r| r[1]["label"] == LABEL), "{text}");
}

#[test]
fn one_runs_bmf_export_matches_the_published_schema() {
    let dir = tempfile::tempdir().unwrap();
    let rows: Vec<Row> = history_rows(dir.path())
        .into_iter()
        .filter(|r| r.run_id == "run-2")
        .collect();
    let text = to_bmf::render_rows(&rows).unwrap();
    let schema: serde_json::Value = serde_json::from_str(BMF_SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}\n{text}");
    let latency = &doc[CASE]["latency"];
    assert_eq!(latency["value"], 19_000.0, "{text}");
    let (lower, upper) = (
        latency["lower_value"].as_f64(),
        latency["upper_value"].as_f64(),
    );
    assert!(
        lower.unwrap() <= 19_000.0 && upper.unwrap() >= 19_000.0,
        "{text}"
    );
    assert!(
        doc[CASE]["throughput"]["value"].as_f64().unwrap() > 0.0,
        "{text}"
    );
    // Rows of two runs are refused: a BMF report holds one run.
    let all = history_rows(tempfile::tempdir().unwrap().path());
    assert!(to_bmf::render_rows(&all).is_err());
}
