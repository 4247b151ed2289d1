//! Is the newest segment a regression? The rule `history check` exits 1 on.
//!
//! 1. Take the newest change point. If it is an improvement (or there is none), no regression.
//! 2. Walk back over the change points just before it that also made the figure worse: a slow
//!    drift is found as such a staircase of same-direction steps, each perhaps below the
//!    threshold. The **reference** is the segment before the staircase's first step.
//! 3. Compare the newest segment with the reference: median ratio with its bootstrap interval
//!    (the reference's last and the newest segment's latest `size_window` runs). It is a **regression** when the whole interval
//!    lies beyond the threshold t taken as a factor, as in the gate: above 1+t when lower is
//!    better, below 1/(1+t) when higher is better. Every step was significant at α already.
//!
//! With `max_age`, a newest change point that starts more than that many runs before the end
//! is reported but not judged: an old regression that the team accepted stops failing CI once
//! it is that old, without a baseline to move.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::interval::{IntervalConfig, ratio_of_medians};
use super::model::{Analysis, Config, Series, interval_seed};
use crate::stats::Estimate;

/// What counts as a regression of the newest segment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RegressionRule {
    /// Noise threshold as a fraction (0.02 = 2 %).
    pub threshold: f64,
    /// True when larger figures are worse (latency, CPU per message); false for throughput.
    pub lower_is_better: bool,
    /// Judge only a newest change point within this many runs of the end (None: any age).
    pub max_age: Option<usize>,
}

/// The outcome for one series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The newest segment is worse than the reference, beyond the threshold.
    Regression,
    /// Worse, but the interval reaches into the threshold.
    WithinThreshold,
    /// The newest change point made things better.
    Improvement,
    /// No change point, or the newest is older than `max_age`.
    NoChange,
}

/// The newest segment judged against its reference.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// The verdict.
    pub verdict: Verdict,
    /// Index of the change point where the worsening began (the staircase's first step).
    pub since: Option<usize>,
    /// Change points in the staircase (1 for a single step; more for a drift).
    pub steps: usize,
    /// median(newest segment)/median(reference), when there was something to compare.
    pub ratio: Option<Estimate>,
    /// The reference runs.
    pub reference: Option<Range<usize>>,
    /// The newest segment's runs.
    pub newest: Option<Range<usize>>,
    /// Largest p-value among the staircase's change points.
    pub p_value: Option<f64>,
}

impl Judgement {
    fn quiet(verdict: Verdict) -> Judgement {
        Judgement {
            verdict,
            since: None,
            steps: 0,
            ratio: None,
            reference: None,
            newest: None,
            p_value: None,
        }
    }
}

/// Judges the newest segment of `series` as [`detect`](super::detect) segmented it.
pub fn judge_newest(
    series: &Series,
    analysis: &Analysis,
    rule: &RegressionRule,
    config: &Config,
) -> Judgement {
    let cps = &analysis.change_points;
    let Some(newest) = cps.last() else {
        return Judgement::quiet(Verdict::NoChange);
    };
    if rule
        .max_age
        .is_some_and(|age| analysis.runs - newest.index > age)
    {
        return Judgement::quiet(Verdict::NoChange);
    }
    let worse = |ratio: f64| {
        if rule.lower_is_better {
            ratio > 1.0
        } else {
            ratio < 1.0
        }
    };
    if !worse(newest.ratio.point) {
        return Judgement::quiet(Verdict::Improvement);
    }
    let mut first = cps.len() - 1;
    while first > 0 && worse(cps[first - 1].ratio.point) {
        first -= 1;
    }
    let segments = analysis.segments();
    let reference_seg = segments[first].clone();
    let newest_seg = segments[segments.len() - 1].clone();
    let w = config.size_window;
    let reference = reference_seg.start.max(reference_seg.end.saturating_sub(w))..reference_seg.end;
    let newest_runs = newest_seg.start.max(newest_seg.end.saturating_sub(w))..newest_seg.end;
    let interval = IntervalConfig {
        confidence: config.confidence,
        resamples: config.resamples,
        seed: interval_seed(config.seed, usize::MAX - newest.index),
    };
    let ratio = ratio_of_medians(
        &series.side(reference.clone()),
        &series.side(newest_runs.clone()),
        &interval,
    );
    let ci = ratio.confidence_interval;
    let factor = 1.0 + rule.threshold;
    let beyond = if rule.lower_is_better {
        ci.lower_bound > factor
    } else {
        ci.upper_bound < 1.0 / factor
    };
    Judgement {
        verdict: if beyond {
            Verdict::Regression
        } else {
            Verdict::WithinThreshold
        },
        since: Some(cps[first].index),
        steps: cps.len() - first,
        ratio: Some(ratio),
        reference: Some(reference),
        newest: Some(newest_runs),
        p_value: cps[first..].iter().map(|c| c.p_value).reduce(f64::max),
    }
}
