//! Presenting a [`Comparison`]: one file per format (terminal table, markdown for a CI job
//! summary, JSON), sharing the number formatting and the wording of the method here.

pub mod json;
pub mod markdown;
pub mod table;

use std::str::FromStr;

use super::Comparison;
use super::gate::{MetricResult, format_p};
use super::metric::Unit;
use crate::error::ConfigError;
use crate::text::{si, us};

/// The output formats of `loopbench compare`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned text for a terminal.
    Table,
    /// GitHub-flavoured markdown (a CI job summary or a PR comment).
    Markdown,
    /// The whole [`Comparison`] as JSON.
    Json,
}

impl FromStr for Format {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Format, ConfigError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "table" => Ok(Format::Table),
            "markdown" | "md" => Ok(Format::Markdown),
            "json" => Ok(Format::Json),
            _ => Err(ConfigError::UnknownValue {
                dimension: "format",
                value: s.into(),
                expected: "table, markdown, json".into(),
            }),
        }
    }
}

/// Renders `c` in `format`.
pub fn render(c: &Comparison, format: Format) -> String {
    match format {
        Format::Table => table::render(c),
        Format::Markdown => markdown::render(c),
        Format::Json => json::render(c),
    }
}

/// The unit as shown next to a metric's name.
pub fn unit_label(unit: Unit) -> &'static str {
    match unit {
        Unit::Nanoseconds => "µs",
        Unit::MsgsPerSec => "msgs/s",
        Unit::BytesPerSec => "Gbit/s",
    }
}

/// A value in its display unit.
pub fn value(unit: Unit, v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    match unit {
        Unit::Nanoseconds => us(v),
        Unit::MsgsPerSec => si(v),
        Unit::BytesPerSec => format!("{:.2}", v * 8.0 / 1e9),
    }
}

/// A ratio as a signed relative change: `+10.4%`.
pub fn change(ratio: f64) -> String {
    if ratio.is_finite() {
        format!("{:+.1}%", (ratio - 1.0) * 100.0)
    } else {
        "-".into()
    }
}

/// The interval of a metric as relative changes: `[+8.1%, +12.9%]`.
pub fn interval(m: &MetricResult) -> String {
    m.ratio.map_or("-".into(), |e| {
        let ci = e.confidence_interval;
        format!("[{}, {}]", change(ci.lower_bound), change(ci.upper_bound))
    })
}

/// The Holm-adjusted p-value of the direction the data lean to; `-` when not gated.
pub fn p_holm(m: &MetricResult) -> String {
    match (m.p_regression_holm, m.p_improvement_holm) {
        (Some(r), Some(i)) => format_p(r.min(i)),
        _ => "-".into(),
    }
}

/// The iteration counts: `12/12`.
pub fn iterations(m: &MetricResult) -> String {
    format!("{}/{}", m.base.iterations, m.new.iterations)
}

/// The numeric cells of a metric's row: n, base, new, change, interval, p (Holm).
pub fn cells(m: &MetricResult) -> [String; 6] {
    [
        iterations(m),
        value(m.unit, m.base.median),
        value(m.unit, m.new.median),
        m.ratio.map_or("-".into(), |e| change(e.point)),
        interval(m),
        p_holm(m),
    ]
}

/// One sentence describing the method and its settings.
pub fn method(c: &Comparison) -> String {
    let g = &c.config;
    let t = |m: super::metric::Metric| format!("{m} {:.0}%", g.thresholds.get(m) * 100.0);
    use super::metric::Metric::*;
    format!(
        "Sample unit: one iteration. Ratio of medians NEW/BASE with a {:.0}% percentile-bootstrap interval \
         ({} resamples, seed {}; runs resampled first, then their iterations); one-sided Mann–Whitney U per \
         direction (cases interleaved in the same run: time-paired iterations, median of the per-pair ratios, \
         exact sign test), Holm-corrected over {} gated comparisons at α = {}. A regression must be significant AND \
         its interval must lie entirely beyond the noise threshold, a factor both ways ({}, {}, {}; p99 \
         gated only with ≥100k samples per iteration; p99.9 reported only). Fewer than {} iterations per \
         side: inconclusive.",
        g.confidence * 100.0,
        g.resamples,
        g.seed,
        c.holm_family,
        g.alpha,
        t(P50),
        t(Throughput),
        t(P99),
        g.min_iterations
    )
}

/// The lists after the table, titled: unmatched cases, environment differences, warnings. `code`
/// marks up an id or a value (backticks in markdown, nothing on a terminal).
pub fn trailer(c: &Comparison, code: fn(&str) -> String) -> Vec<(&'static str, Vec<String>)> {
    let ids = |v: &[crate::spec::CaseId]| v.iter().map(|id| code(id.as_str())).collect();
    vec![
        ("Only in base (not compared)", ids(&c.only_in_base)),
        ("Only in new (not compared)", ids(&c.only_in_new)),
        (
            "Environment differences (base → new)",
            c.environment
                .iter()
                .map(|d| format!("{}: {} → {}", d.setting, code(&d.base), code(&d.new)))
                .collect(),
        ),
        ("Warnings", c.warnings.clone()),
    ]
}

/// The final line: counts and pass/fail.
pub fn summary(c: &Comparison) -> String {
    let k = &c.counts;
    format!(
        "{}: {} regression(s), {} improvement(s), {} no change, {} inconclusive ({} reported only)",
        if c.has_regression() { "FAIL" } else { "pass" },
        k.regressions,
        k.improvements,
        k.no_change,
        k.inconclusive,
        k.not_gated
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_use_each_units_display() {
        assert_eq!(value(Unit::Nanoseconds, 5_800.0), "5.80");
        assert_eq!(value(Unit::MsgsPerSec, 158_000.0), "158k");
        assert_eq!(value(Unit::BytesPerSec, 2.5e9), "20.00");
        assert_eq!(change(1.104), "+10.4%");
        assert_eq!(change(0.9), "-10.0%");
    }

    #[test]
    fn formats_parse() {
        assert_eq!("md".parse::<Format>().unwrap(), Format::Markdown);
        assert!(
            "xml"
                .parse::<Format>()
                .unwrap_err()
                .to_string()
                .contains("json")
        );
    }
}
