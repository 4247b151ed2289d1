//! The BMF export validated against the published JSON Schema with a real validator.

use loopbench::history::export::bmf::{
    CPU_PER_MESSAGE, LATENCY, LATENCY_P99, Metric, Report, THROUGHPUT, THROUGHPUT_BYTES, render,
};

/// The schema as published on <https://bencher.dev/docs/reference/bencher-metric-format/>
/// ("Bencher Metric Format (BMF) JSON Schema"), copied verbatim.
pub(crate) const BMF_SCHEMA: &str = r#"{
  "$id": "https://bencher.dev/bmf.json",
  "$schema": "http://json-schema.org/draft-07/schema",
  "type": "object",
  "patternProperties": {
    ".+": {
      "type": "object",
      "patternProperties": {
        ".+": {
          "type": "object",
          "properties": {
            "value": { "type": "number" },
            "lower_value": { "type": "number" },
            "upper_value": { "type": "number" }
          },
          "required": ["value"]
        }
      }
    }
  }
}"#;

fn metric(value: f64, bounds: Option<(f64, f64)>) -> Metric {
    Metric {
        value,
        lower_value: bounds.map(|b| b.0),
        upper_value: bounds.map(|b| b.1),
    }
}

fn report() -> Report {
    let rr = [
        (
            LATENCY.to_string(),
            metric(18_500.0, Some((18_310.0, 18_720.0))),
        ),
        (LATENCY_P99.to_string(), metric(41_000.0, None)),
        (
            THROUGHPUT.to_string(),
            metric(52_340.5, Some((51_900.0, 52_800.0))),
        ),
    ];
    let stream = [
        (
            THROUGHPUT_BYTES.to_string(),
            metric(4.2e9, Some((4.1e9, 4.3e9))),
        ),
        (CPU_PER_MESSAGE.to_string(), metric(2_150.0, None)),
    ];
    [
        ("tcp4-rr-blocking-cross-core-64B".to_string(), rr.into()),
        (
            "tcp4-stream-blocking-cross-core-64KiB".to_string(),
            stream.into(),
        ),
    ]
    .into()
}

#[test]
fn the_export_matches_the_published_schema() {
    let schema: serde_json::Value = serde_json::from_str(BMF_SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let text = render(&report()).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}\n{text}");
    assert_eq!(
        doc["tcp4-rr-blocking-cross-core-64B"]["latency"]["lower_value"],
        18_310.0
    );
    assert!(
        doc["tcp4-rr-blocking-cross-core-64B"]["latency-p99"]
            .get("upper_value")
            .is_none()
    );
}

#[test]
fn the_schema_check_can_fail() {
    // What a careless exporter might write: a string value and a measure without `value`.
    let schema: serde_json::Value = serde_json::from_str(BMF_SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let bad: serde_json::Value = serde_json::from_str(
        r#"{"case": {"latency": {"value": "18"}, "throughput": {"lower_value": 1}}}"#,
    )
    .unwrap();
    assert_eq!(validator.iter_errors(&bad).count(), 2);
}
