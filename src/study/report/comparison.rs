//! Each variant against the baseline, with the regression gate's statistics.

use super::figure::Figure;
use super::samples::VariantSamples;
use crate::compare::gate::{GateConfig, MetricInput, Verdict, evaluate};
use crate::compare::output::p_holm;
use crate::stats::Estimate;

/// The comparison of one variant with the baseline, from the regression gate's statistics.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The ratio of medians variant/baseline with its interval, when it could be computed.
    pub estimate: Option<Estimate>,
    /// The gate's verdict.
    pub outcome: Verdict,
    /// "ratio [low, high]" of medians variant/baseline with its confidence interval.
    pub ratio: String,
    /// Holm-adjusted p-value.
    pub p: String,
    /// The gate's verdict.
    pub verdict: String,
    /// What was done with disturbed iterations, in the gate's words, when there were any.
    pub disturbed: Option<String>,
}

/// Compares each (baseline, variant) pair of samples with the regression gate's statistics:
/// bootstrap interval of the ratio of medians variant/baseline (runs resampled first, then their
/// iterations), one-sided Mann–Whitney U per direction, Holm over every pair of the study, and
/// the gate's verdict (beyond its noise threshold both ways). Results in the order of `pairs`.
pub fn compare(pairs: &[(Figure, VariantSamples, VariantSamples)]) -> Vec<Comparison> {
    let inputs: Vec<MetricInput> = pairs
        .iter()
        .map(|(f, base, variant)| MetricInput {
            metric: f.metric(),
            unit: f.unit(),
            base: base.samples(),
            new: variant.samples(),
            // Variants run in separate namespaces and processes: independent samples.
            paired: Vec::new(),
        })
        .collect();
    evaluate(&inputs, &GateConfig::default())
        .into_iter()
        .map(|r| Comparison {
            estimate: r.ratio,
            outcome: r.verdict,
            ratio: r.ratio.map_or("-".into(), |e| {
                let ci = e.confidence_interval;
                format!(
                    "×{:.3} [{:.3}, {:.3}]",
                    e.point, ci.lower_bound, ci.upper_bound
                )
            }),
            p: p_holm(&r),
            verdict: match r.verdict {
                Verdict::Regression => format!("worse (beyond {:.0}%)", r.threshold * 100.0),
                Verdict::Improvement => format!("better (beyond {:.0}%)", r.threshold * 100.0),
                v => v.label().to_string(),
            },
            disturbed: None,
        })
        .collect()
}
