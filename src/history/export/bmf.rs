//! Figures as Bencher Metric Format (BMF) JSON, for `bencher run --adapter json`.
//!
//! Matched against the Bencher reference page "Bencher Metric Format (BMF)",
//! <https://bencher.dev/docs/reference/bencher-metric-format/>, and its JSON Schema
//! (`$id` <https://bencher.dev/bmf.json>, draft-07), which `tests/bmf.rs` validates the output
//! against: an object of benchmarks (any non-empty name) → an object of measures (any
//! non-empty name or slug) → `{ "value": number, "lower_value"?: number, "upper_value"?:
//! number }`, `value` required. From the same page: a benchmark name is at most 1024
//! characters, a measure slug or name at most 64. From "How to Track Custom Benchmarks"
//! (<https://bencher.dev/docs/how-to/track-custom-benchmarks/>): every project has the built-in
//! measures `latency` (nanoseconds) and `throughput` (operations/second); any other slug creates
//! a custom measure on first use.
//!
//! JSON has no NaN or infinity, so such values are refused rather than written as `null`.

use std::collections::BTreeMap;

use serde::Serialize;

/// Built-in measure: nanoseconds. loopbench puts the median latency (p50) here.
pub const LATENCY: &str = "latency";
/// Built-in measure: operations per second. loopbench puts messages per second here.
pub const THROUGHPUT: &str = "throughput";
/// Custom measure: 99th percentile latency in nanoseconds.
pub const LATENCY_P99: &str = "latency-p99";
/// Custom measure: 99.9th percentile latency in nanoseconds.
pub const LATENCY_P999: &str = "latency-p99-9";
/// Custom measure: bytes per second (stream cases).
pub const THROUGHPUT_BYTES: &str = "throughput-bytes";
/// Custom measure: receiver CPU nanoseconds per message.
pub const CPU_PER_MESSAGE: &str = "cpu-per-message";

/// Longest benchmark name Bencher accepts.
pub const MAX_BENCHMARK_NAME: usize = 1024;
/// Longest measure slug or name Bencher accepts.
pub const MAX_MEASURE_NAME: usize = 64;

/// One metric: a value and, optionally, the ends of its interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Metric {
    /// The figure.
    pub value: f64,
    /// Lower end (e.g. of the confidence interval), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lower_value: Option<f64>,
    /// Upper end, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upper_value: Option<f64>,
}

/// A BMF report: benchmark (case id) → measure slug → metric.
pub type Report = BTreeMap<String, BTreeMap<String, Metric>>;

/// Why figures cannot be written as BMF.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum BmfError {
    /// An empty or over-long benchmark name.
    #[error("benchmark name `{0}` must have 1 to 1024 characters for Bencher")]
    BenchmarkName(String),
    /// An empty or over-long measure name.
    #[error("measure `{0}` must have 1 to 64 characters for Bencher")]
    MeasureName(String),
    /// NaN or infinity, which JSON cannot carry.
    #[error("{benchmark} / {measure}: {value} is not a finite number; BMF needs JSON numbers")]
    NotFinite {
        /// The benchmark.
        benchmark: String,
        /// The measure.
        measure: String,
        /// The value.
        value: f64,
    },
    /// Bounds that do not enclose the value.
    #[error("{benchmark} / {measure}: bounds {lower} .. {upper} do not enclose {value}")]
    Bounds {
        /// The benchmark.
        benchmark: String,
        /// The measure.
        measure: String,
        /// The value.
        value: f64,
        /// Lower end.
        lower: f64,
        /// Upper end.
        upper: f64,
    },
}

fn check(benchmark: &str, measure: &str, m: &Metric) -> Result<(), BmfError> {
    let chars = |s: &str| s.chars().count();
    if benchmark.is_empty() || chars(benchmark) > MAX_BENCHMARK_NAME {
        return Err(BmfError::BenchmarkName(benchmark.into()));
    }
    if measure.is_empty() || chars(measure) > MAX_MEASURE_NAME {
        return Err(BmfError::MeasureName(measure.into()));
    }
    for value in [Some(m.value), m.lower_value, m.upper_value]
        .into_iter()
        .flatten()
    {
        if !value.is_finite() {
            let (benchmark, measure) = (benchmark.into(), measure.into());
            return Err(BmfError::NotFinite {
                benchmark,
                measure,
                value,
            });
        }
    }
    let lower = m.lower_value.unwrap_or(m.value);
    let upper = m.upper_value.unwrap_or(m.value);
    if !(lower <= m.value && m.value <= upper) {
        return Err(BmfError::Bounds {
            benchmark: benchmark.into(),
            measure: measure.into(),
            value: m.value,
            lower,
            upper,
        });
    }
    Ok(())
}

/// The report as pretty-printed BMF JSON, after checking every name and value.
pub fn render(report: &Report) -> Result<String, BmfError> {
    for (benchmark, measures) in report {
        if measures.is_empty() {
            return Err(BmfError::BenchmarkName(format!(
                "{benchmark} (no measures)"
            )));
        }
        for (measure, metric) in measures {
            check(benchmark, measure, metric)?;
        }
    }
    // Serialising maps of strings to plain structs of finite f64 cannot fail.
    Ok(serde_json::to_string_pretty(report).expect("BMF serialises"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(measure: &str, m: Metric) -> Report {
        [("case".to_string(), [(measure.to_string(), m)].into())].into()
    }

    #[test]
    fn optional_bounds_are_left_out() {
        let m = Metric {
            value: 5.0,
            lower_value: None,
            upper_value: None,
        };
        assert_eq!(
            render(&one(THROUGHPUT, m))
                .unwrap()
                .split_whitespace()
                .collect::<String>(),
            r#"{"case":{"throughput":{"value":5.0}}}"#
        );
    }

    #[test]
    fn bad_names_values_and_bounds_are_refused() {
        let ok = Metric {
            value: 5.0,
            lower_value: Some(4.0),
            upper_value: Some(6.0),
        };
        assert!(render(&one(LATENCY, ok)).is_ok());
        assert!(matches!(
            render(&one(&"m".repeat(65), ok)),
            Err(BmfError::MeasureName(_))
        ));
        let nan = Metric {
            value: f64::NAN,
            ..ok
        };
        assert!(matches!(
            render(&one(LATENCY, nan)),
            Err(BmfError::NotFinite { .. })
        ));
        let outside = Metric { value: 7.0, ..ok };
        assert!(matches!(
            render(&one(LATENCY, outside)),
            Err(BmfError::Bounds { .. })
        ));
        let long: Report = [("c".repeat(1025), [(LATENCY.to_string(), ok)].into())].into();
        assert!(matches!(render(&long), Err(BmfError::BenchmarkName(_))));
    }
}
