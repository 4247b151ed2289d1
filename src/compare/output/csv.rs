//! The comparison as CSV (`--export-csv`): one row per case and metric with raw numbers (the
//! metric's own unit: nanoseconds, messages or bytes per second), for spreadsheets and scripts.

use anyhow::Result;

use crate::compare::Comparison;

/// The columns.
pub const HEADER: &[&str] = &[
    "base_case",
    "new_case",
    "metric",
    "unit",
    "gated",
    "verdict",
    "base_iterations",
    "base_median",
    "new_iterations",
    "new_median",
    "ratio",
    "ratio_lower",
    "ratio_upper",
    "confidence_level",
    "threshold",
    "p_regression_holm",
    "p_improvement_holm",
    "pairs",
    "reason",
];

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Renders the comparison as CSV.
pub fn render(c: &Comparison) -> Result<String> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER)?;
    for case in &c.cases {
        for m in &case.metrics {
            let ci = m.ratio.map(|r| r.confidence_interval);
            w.write_record([
                case.base_case.to_string(),
                case.new_case.to_string(),
                m.metric.to_string(),
                serde_json::to_value(m.unit)?
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                m.gated.to_string(),
                serde_json::to_value(m.verdict)?
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                m.base.iterations.to_string(),
                m.base.median.to_string(),
                m.new.iterations.to_string(),
                m.new.median.to_string(),
                opt(m.ratio.map(|r| r.point)),
                opt(ci.map(|ci| ci.lower_bound)),
                opt(ci.map(|ci| ci.upper_bound)),
                opt(ci.map(|ci| ci.confidence_level)),
                m.threshold.to_string(),
                opt(m.p_regression_holm),
                opt(m.p_improvement_holm),
                m.pairs.to_string(),
                m.reason.to_string(),
            ])?;
        }
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
