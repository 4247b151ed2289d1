//! Figures as OpenMetrics text exposition (OpenMetrics 1.0, "Text format" section,
//! <https://prometheus.io/docs/specs/om/open_metrics_spec/>), for Prometheus (`promtool tsdb
//! create-blocks-from openmetrics` backfills it), VictoriaMetrics and Grafana.
//!
//! What the renderer guarantees, following the spec:
//! - one block per metric family, `# TYPE`, then `# UNIT` (when the family has a unit: the
//!   family name must end in `_<unit>`), then `# HELP`, then its samples; `# EOF` ends the text;
//! - gauges are exposed under the family name, counters as `<family>_total` (a counter family
//!   name must not itself end in `_total`; its values must be finite and non-negative);
//! - label values and HELP text escape `\` as `\\`, `"` as `\"` and a line feed as `\n`;
//! - timestamps are **seconds** since the Unix epoch (OpenMetrics; the older Prometheus text
//!   format used milliseconds), with millisecond precision;
//! - the points of one label set come together, in ascending timestamp order (a history is a
//!   backfill: several points per series); two points of one label set at the same time, or
//!   more than one point of a label set without a timestamp, are refused.
//!
//! Units are the spec's base units: latencies in seconds, rates per second. Converting
//! loopbench's nanoseconds is the caller's job ([`NANOS_PER_SECOND`]).

use std::collections::BTreeMap;
use std::fmt::Write;

/// Divide nanoseconds by this for the seconds OpenMetrics wants.
pub const NANOS_PER_SECOND: f64 = 1e9;

/// The type of a metric family (the two a results history needs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricType {
    /// A value that can go up and down (a latency, a rate).
    Gauge,
    /// A monotonically growing total (messages sent); exposed as `<name>_total`.
    Counter,
}

/// A metric family: the metadata shared by its samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Family {
    /// Family name, e.g. `loopbench_latency_p50_seconds`.
    pub name: String,
    /// Gauge or counter.
    pub metric_type: MetricType,
    /// Unit (a suffix of the name), e.g. `seconds`; `None` for a plain count.
    pub unit: Option<String>,
    /// One line of help.
    pub help: String,
}

/// One figure: a value of a family with its labels and, usually, a timestamp.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// The family's name.
    pub family: String,
    /// Labels (case, host, commit, branch, run id, ...), rendered sorted by name.
    pub labels: BTreeMap<String, String>,
    /// The value.
    pub value: f64,
    /// Milliseconds since the Unix epoch (the run's start), or `None`.
    pub timestamp_ms: Option<i64>,
}

/// Why figures cannot be rendered.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum OpenMetricsError {
    /// A metric or label name outside the allowed characters.
    #[error(
        "`{0}` is not a valid OpenMetrics {1} name ([a-zA-Z_][a-zA-Z0-9_]*; metric names may contain ':'; label names may not start with '__')"
    )]
    BadName(String, &'static str),
    /// A family whose unit is not the suffix of its name.
    #[error("family `{name}` has unit `{unit}`: its name must end in `_{unit}`")]
    UnitNotSuffix {
        /// The family.
        name: String,
        /// Its unit.
        unit: String,
    },
    /// A counter family named `..._total`.
    #[error("counter family `{0}` must not end in `_total`: the sample gets that suffix")]
    CounterTotal(String),
    /// The same family given twice.
    #[error("family `{0}` is described twice")]
    DuplicateFamily(String),
    /// A figure of a family that was not described.
    #[error("figure of unknown family `{0}`: describe it in the families list")]
    UnknownFamily(String),
    /// A counter value that is negative or not finite.
    #[error("counter `{0}` has value {1}: counters must be finite and non-negative")]
    BadCounter(String, f64),
    /// Two points of one series at the same time (or two without a time).
    #[error("family `{0}` has two points with labels {{{1}}} at the same timestamp")]
    DuplicatePoint(String, String),
}

fn valid_name(name: &str, colon: bool) -> bool {
    let mut chars = name.chars();
    let ok_first = |c: char| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':');
    chars.next().is_some_and(ok_first)
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

/// `value` with `\`, `"` and line feeds escaped, as label values and HELP text need.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A value as OpenMetrics spells it: `NaN`, `+Inf`, `-Inf`, or the shortest decimal that
/// reads back to the same f64 (Rust's `Display`, which never uses an exponent).
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

/// Milliseconds since the epoch as OpenMetrics seconds (`1700000000.123`, `-1.500`).
pub fn format_timestamp(ms: i64) -> String {
    let (sign, abs) = if ms < 0 {
        ("-", ms.unsigned_abs())
    } else {
        ("", ms as u64)
    };
    match abs % 1000 {
        0 => format!("{sign}{}", abs / 1000),
        frac => format!("{sign}{}.{frac:03}", abs / 1000),
    }
}

fn check_family(f: &Family) -> Result<(), OpenMetricsError> {
    if !valid_name(&f.name, true) {
        return Err(OpenMetricsError::BadName(f.name.clone(), "metric"));
    }
    let misplaced =
        |unit: &&String| !valid_name(unit, false) || !f.name.ends_with(&format!("_{unit}"));
    if let Some(unit) = f.unit.as_ref().filter(misplaced) {
        let (name, unit) = (f.name.clone(), unit.clone());
        return Err(OpenMetricsError::UnitNotSuffix { name, unit });
    }
    if f.metric_type == MetricType::Counter && f.name.ends_with("_total") {
        return Err(OpenMetricsError::CounterTotal(f.name.clone()));
    }
    Ok(())
}

fn render_labels(labels: &BTreeMap<String, String>) -> Result<String, OpenMetricsError> {
    let mut parts = Vec::with_capacity(labels.len());
    for (name, value) in labels {
        if !valid_name(name, false) || name.starts_with("__") {
            return Err(OpenMetricsError::BadName(name.clone(), "label"));
        }
        parts.push(format!("{name}=\"{}\"", escape(value)));
    }
    Ok(parts.join(","))
}

/// Renders `figures` of the described `families` (in the families' order) as one exposition
/// ending in `# EOF`. Families without figures are described all the same.
pub fn render(families: &[Family], figures: &[Figure]) -> Result<String, OpenMetricsError> {
    let mut by_family: BTreeMap<&str, BTreeMap<String, Vec<&Figure>>> = BTreeMap::new();
    for f in families {
        check_family(f)?;
        if by_family.insert(&f.name, BTreeMap::new()).is_some() {
            return Err(OpenMetricsError::DuplicateFamily(f.name.clone()));
        }
    }
    for fig in figures {
        let series = by_family
            .get_mut(fig.family.as_str())
            .ok_or_else(|| OpenMetricsError::UnknownFamily(fig.family.clone()))?;
        series
            .entry(render_labels(&fig.labels)?)
            .or_default()
            .push(fig);
    }
    let mut out = String::new();
    for family in families {
        let sample_name = match family.metric_type {
            MetricType::Gauge => family.name.clone(),
            MetricType::Counter => format!("{}_total", family.name),
        };
        let kind = match family.metric_type {
            MetricType::Gauge => "gauge",
            MetricType::Counter => "counter",
        };
        // Writing to a String cannot fail.
        let _ = writeln!(out, "# TYPE {} {kind}", family.name);
        if let Some(unit) = &family.unit {
            let _ = writeln!(out, "# UNIT {} {unit}", family.name);
        }
        let _ = writeln!(out, "# HELP {} {}", family.name, escape(&family.help));
        for (labels, points) in by_family
            .get_mut(family.name.as_str())
            .into_iter()
            .flatten()
        {
            points.sort_by_key(|p| p.timestamp_ms);
            if points
                .windows(2)
                .any(|w| w[0].timestamp_ms == w[1].timestamp_ms)
            {
                return Err(OpenMetricsError::DuplicatePoint(
                    family.name.clone(),
                    labels.clone(),
                ));
            }
            for p in points.iter() {
                if family.metric_type == MetricType::Counter
                    && !(p.value >= 0.0 && p.value.is_finite())
                {
                    return Err(OpenMetricsError::BadCounter(family.name.clone(), p.value));
                }
                out.push_str(&sample_name);
                if !labels.is_empty() {
                    let _ = write!(out, "{{{labels}}}");
                }
                let _ = write!(out, " {}", format_value(p.value));
                if let Some(ms) = p.timestamp_ms {
                    let _ = write!(out, " {}", format_timestamp(ms));
                }
                out.push('\n');
            }
        }
    }
    out.push_str("# EOF\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_backslash_quote_and_newline_only() {
        assert_eq!(escape(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escape("x\ny\tz"), "x\\ny\tz");
    }

    #[test]
    fn values_and_timestamps_are_spelled_as_the_spec_wants() {
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(format_value(1.5e-7), "0.00000015");
        assert_eq!(format_value(42.0), "42");
        assert_eq!(format_timestamp(1_700_000_000_123), "1700000000.123");
        assert_eq!(format_timestamp(1_700_000_000_000), "1700000000");
        assert_eq!(format_timestamp(-1_500), "-1.500");
    }

    #[test]
    fn names_are_checked() {
        assert!(valid_name("loopbench:p50_seconds", true));
        assert!(!valid_name("loopbench:p50", false));
        assert!(!valid_name("9lives", true));
        assert!(!valid_name("", true));
        let bad_unit = Family {
            name: "lat_ns".into(),
            metric_type: MetricType::Gauge,
            unit: Some("seconds".into()),
            help: String::new(),
        };
        assert!(matches!(
            render(&[bad_unit], &[]),
            Err(OpenMetricsError::UnitNotSuffix { .. })
        ));
    }
}
