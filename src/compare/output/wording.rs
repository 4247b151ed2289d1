//! The wording every format shares: values in their display units, relative changes, intervals
//! and p-values, the method sentence, the lists after the table and the verdict line.

use crate::compare::gate::MetricResult;
use crate::compare::metric::{Metric, Unit};
use crate::compare::{CaseComparison, Comparison};
use crate::text::{si, us};

/// ` (left out as disturbed: …)` when the case had disturbed iterations, else empty.
pub fn trust_note(case: &CaseComparison) -> String {
    case.trust
        .as_ref()
        .and_then(|t| t.disturbed_note())
        .map_or(String::new(), |n| format!(" ({n})"))
}

/// A p-value for people: `0.031`, `2.9e-4`.
pub fn format_p(p: f64) -> String {
    if p >= 0.001 {
        format!("{p:.3}")
    } else {
        format!("{p:.1e}")
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
    let t = |m: Metric| format!("{m} {:.0}%", g.thresholds.get(m) * 100.0);
    use Metric::*;
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
        ("Precision", precision(c, code)),
    ]
}

/// `ab --precision`: the rounds and why they stopped, then each case's interval half-width.
fn precision(c: &Comparison, code: fn(&str) -> String) -> Vec<String> {
    let Some(p) = &c.precision else {
        return Vec::new();
    };
    let mut lines = vec![format!(
        "target ±{:.1} %: {} round(s), stopped: {}",
        p.target_rel * 100.0,
        p.rounds,
        p.stopped
    )];
    lines.extend(p.cases.iter().map(|k| {
        format!(
            "{} {}: ±{:.1} % ({})",
            code(k.case.as_str()),
            k.metric,
            k.half_width_rel * 100.0,
            if k.reached { "reached" } else { "not reached" }
        )
    }));
    lines
}

/// The final line: counts and pass/fail.
pub fn summary(c: &Comparison) -> String {
    let k = &c.counts;
    format!(
        "{}: {} regression(s), {} improvement(s), {}, {} inconclusive ({} reported only)",
        if c.has_regression() { "FAIL" } else { "pass" },
        k.regressions,
        k.improvements,
        no_change(c),
        k.inconclusive,
        k.not_gated
    )
}

/// `3 no change`, or `3 no change (1 too wide to rule out a change beyond the threshold)` when
/// some intervals reach past it.
pub fn no_change(c: &Comparison) -> String {
    let open = c
        .cases
        .iter()
        .flat_map(|case| &case.metrics)
        .filter(|m| m.change_not_ruled_out)
        .count();
    let n = c.counts.no_change;
    if open == 0 {
        format!("{n} no change")
    } else {
        format!("{n} no change ({open} too wide to rule out a change beyond the threshold)")
    }
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
    fn p_values_switch_to_exponents_below_a_thousandth() {
        assert_eq!(format_p(0.031), "0.031");
        assert_eq!(format_p(0.00029), "2.9e-4");
    }
}
