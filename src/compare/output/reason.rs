//! The gate's reasons in words: each [`Reason`] is one sentence, shown in the notes of the table
//! and the markdown, and written as the `reason` string of `--format json`.

use std::fmt;

use serde::{Serialize, Serializer};

use super::wording::{change, format_p};
use crate::compare::gate::{Decision, Reason};

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NoRatio(e) => write!(f, "no ratio: {e}"),
            Reason::NeverGated(metric) => write!(f, "{metric} is reported, never gated"),
            Reason::TooFewSamples { metric, need, has } => write!(
                f,
                "not gated: {metric} needs ≥{need} samples in every iteration, the smallest has {has}"
            ),
            Reason::TooFewIterations { base, new, min } => write!(
                f,
                "too few iterations ({base} base, {new} new): the gate needs at least {min} per side"
            ),
            Reason::Untested => Ok(()),
            Reason::Worse(d) => write!(
                f,
                "worse: p={} ≤ {} and the interval {} lies beyond {}",
                format_p(d.p),
                d.alpha,
                interval(d),
                beyond(d)
            ),
            Reason::Better(d) => write!(
                f,
                "better: p={} ≤ {} and the interval {} lies beyond {}",
                format_p(d.p),
                d.alpha,
                interval(d),
                beyond(d)
            ),
            Reason::WithinThreshold(d) => write!(
                f,
                "significant, but the interval {} is not entirely beyond the {} noise threshold{}",
                interval(d),
                beyond(d),
                not_ruled_out(d, "it also reaches past it")
            ),
            Reason::NotSignificant(d) => write!(
                f,
                "not significant (p={} after Holm's correction){}",
                format_p(d.p),
                not_ruled_out(
                    d,
                    &format!("the interval {} reaches past {}", interval(d), beyond(d))
                )
            ),
            Reason::CanaryDiffers(d) => write!(
                f,
                "--strict-env: the machine changed between base and new ({d})"
            ),
        }
    }
}

/// The JSON output carries the sentence.
impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// In JSON, why the metric got its verdict, as one sentence.
impl schemars::JsonSchema for Reason {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Reason".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "Why the metric got its verdict, as one sentence",
        })
    }
}

/// The interval as relative changes: `[+8.1%, +12.9%]`.
fn interval(d: &Decision) -> String {
    let ci = d.interval;
    format!("[{}, {}]", change(ci.lower_bound), change(ci.upper_bound))
}

/// For a "no change": when the interval reaches past the threshold on either side, a change
/// larger than the threshold is not ruled out (the comparison had too few pairs or too much noise
/// to tell), and the sentence says so; empty when the interval lies within the threshold.
fn not_ruled_out(d: &Decision, what: &str) -> String {
    if d.reaches_past_threshold() {
        format!(
            "; {what}: a change that large is not ruled out (more rounds, or --precision, narrow the interval)"
        )
    } else {
        String::new()
    }
}

/// The noise threshold both ways: `±5%`.
fn beyond(d: &Decision) -> String {
    format!("±{:.0}%", d.threshold * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::metric::Metric;
    use crate::stats::{ConfidenceInterval, StatsError};

    fn decision(p: f64) -> Decision {
        Decision {
            p,
            alpha: 0.05,
            interval: ConfidenceInterval {
                confidence_level: 0.95,
                lower_bound: 1.081,
                upper_bound: 1.129,
            },
            threshold: 0.05,
        }
    }

    fn within(p: f64, lower_bound: f64, upper_bound: f64) -> Decision {
        Decision {
            interval: ConfidenceInterval {
                confidence_level: 0.95,
                lower_bound,
                upper_bound,
            },
            ..decision(p)
        }
    }

    #[test]
    fn each_reason_is_one_sentence_with_its_figures() {
        let cases = [
            (
                Reason::Worse(decision(0.00029)),
                "worse: p=2.9e-4 ≤ 0.05 and the interval [+8.1%, +12.9%] lies beyond ±5%",
            ),
            (
                Reason::Better(decision(0.031)),
                "better: p=0.031 ≤ 0.05 and the interval [+8.1%, +12.9%] lies beyond ±5%",
            ),
            (
                Reason::WithinThreshold(within(0.01, 1.021, 1.049)),
                "significant, but the interval [+2.1%, +4.9%] is not entirely beyond the ±5% noise threshold",
            ),
            (
                Reason::WithinThreshold(within(0.01, 1.006, 1.087)),
                "significant, but the interval [+0.6%, +8.7%] is not entirely beyond the ±5% noise threshold; it also reaches past it: a change that large is not ruled out (more rounds, or --precision, narrow the interval)",
            ),
            (
                Reason::NotSignificant(within(0.4, 0.97, 1.03)),
                "not significant (p=0.400 after Holm's correction)",
            ),
            (
                // ÷1.05 is −4.8 %: −5.0 % lies past the threshold on the low side.
                Reason::NotSignificant(within(0.4, 0.95, 1.03)),
                "not significant (p=0.400 after Holm's correction); the interval [-5.0%, +3.0%] reaches past ±5%: a change that large is not ruled out (more rounds, or --precision, narrow the interval)",
            ),
            (
                Reason::TooFewIterations {
                    base: 4,
                    new: 12,
                    min: 5,
                },
                "too few iterations (4 base, 12 new): the gate needs at least 5 per side",
            ),
            (
                Reason::TooFewSamples {
                    metric: Metric::P99,
                    need: 100_000,
                    has: 99_999,
                },
                "not gated: p99 needs ≥100000 samples in every iteration, the smallest has 99999",
            ),
            (
                Reason::NeverGated(Metric::P999),
                "p99.9 is reported, never gated",
            ),
            (
                Reason::NoRatio(StatsError::ZeroBase),
                "no ratio: the median of the base sample is 0: a ratio to it is undefined",
            ),
        ];
        for (reason, words) in cases {
            assert_eq!(reason.to_string(), words);
            assert_eq!(
                serde_json::to_value(&reason).unwrap(),
                serde_json::Value::String(words.into())
            );
        }
    }
}
