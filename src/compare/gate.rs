//! The verdict: a change is a **regression** only if it is statistically significant (one-sided
//! Mann–Whitney U, Holm-corrected over every gated metric of every case) AND its bootstrap
//! confidence interval of the ratio of medians lies entirely beyond the metric's noise
//! threshold t, taken as a factor: above 1+t for a worse latency, below 1/(1+t) for a worse
//! throughput. **Improvement** is the mirror image. Otherwise **no change**, or **inconclusive**
//! when a side has fewer than the minimum number of iterations. Metrics that are not gated are
//! reported with their interval but get no verdict.

use serde::{Deserialize, Serialize};

use super::metric::{Gating, Metric, Thresholds, Unit};
use crate::stats::{
    Alternative, ConfidenceInterval, Estimate, MwuMethod, StatsError, holm, mann_whitney_u, median,
    paired_ratio, ratio_of_medians_clustered, sign_test,
};

/// Default confidence level of the intervals.
pub const DEFAULT_CONFIDENCE: f64 = 0.95;
/// Default family-wise significance level.
pub const DEFAULT_ALPHA: f64 = 0.05;
/// Default minimum number of iterations per side for a verdict.
pub const DEFAULT_MIN_ITERATIONS: usize = 5;
/// Default bootstrap seed: the same data give the same report.
pub const DEFAULT_SEED: u64 = 1;

/// How the gate decides.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GateConfig {
    /// Confidence level of the bootstrap intervals (0.95).
    pub confidence: f64,
    /// Family-wise significance level after Holm's correction (0.05).
    pub alpha: f64,
    /// Bootstrap resamples per interval.
    pub resamples: usize,
    /// Bootstrap seed.
    pub seed: u64,
    /// Fewer iterations than this on either side makes a gated metric inconclusive.
    pub min_iterations: usize,
    /// Noise threshold per metric.
    pub thresholds: Thresholds,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            confidence: DEFAULT_CONFIDENCE,
            alpha: DEFAULT_ALPHA,
            resamples: crate::stats::DEFAULT_RESAMPLES,
            seed: DEFAULT_SEED,
            min_iterations: DEFAULT_MIN_ITERATIONS,
            thresholds: Thresholds::default(),
        }
    }
}

/// The outcome for one metric of one case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Significantly worse, by more than the noise threshold.
    Regression,
    /// Significantly better, by more than the noise threshold.
    Improvement,
    /// Not significant, or within the noise threshold.
    NoChange,
    /// Too few iterations (or unusable values) to decide.
    Inconclusive,
    /// Reported only.
    NotGated,
}

impl Verdict {
    /// The word shown in tables.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Regression => "REGRESSION",
            Verdict::Improvement => "improvement",
            Verdict::NoChange => "no change",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotGated => "not gated",
        }
    }
}

/// One side's values of one metric: one per iteration.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Samples {
    /// The per-iteration values, run after run.
    pub values: Vec<f64>,
    /// How many of `values` each run contributed, in order (empty: one run). The bootstrap
    /// resamples runs first, then iterations within them.
    pub runs: Vec<usize>,
    /// The fewest latency samples any of these iterations holds.
    pub min_latency_count: u64,
}

/// What [`evaluate`] needs for one metric of one case.
#[derive(Clone, Debug)]
pub struct MetricInput {
    /// The metric.
    pub metric: Metric,
    /// Its unit for this case.
    pub unit: Unit,
    /// BASE values.
    pub base: Samples,
    /// NEW values.
    pub new: Samples,
    /// (BASE, NEW) values of iterations measured interleaved in one run, each NEW iteration
    /// with the BASE iteration that ran closest in time; empty when the sides are separate runs.
    /// When present, the gate uses the paired ratios and the sign test.
    pub paired: Vec<(f64, f64)>,
}

/// Median and range of one side.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SideStats {
    /// Iterations.
    pub iterations: usize,
    /// Median over iterations.
    pub median: f64,
    /// Smallest iteration value.
    pub min: f64,
    /// Largest iteration value.
    pub max: f64,
}

impl Samples {
    /// The values split into their runs.
    pub fn clusters(&self) -> Vec<&[f64]> {
        let mut out = Vec::new();
        let mut rest = self.values.as_slice();
        for &n in &self.runs {
            let (head, tail) = rest.split_at(n.min(rest.len()));
            out.push(head);
            rest = tail;
        }
        if !rest.is_empty() {
            out.push(rest);
        }
        out
    }
}

impl SideStats {
    fn of(values: &[f64]) -> SideStats {
        SideStats {
            iterations: values.len(),
            median: median(values),
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// The comparison of one metric of one case.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct MetricResult {
    /// The metric.
    pub metric: Metric,
    /// Unit of `base`/`new`.
    pub unit: Unit,
    /// BASE summary.
    pub base: SideStats,
    /// NEW summary.
    pub new: SideStats,
    /// median(NEW)/median(BASE) with its bootstrap interval.
    pub ratio: Option<Estimate>,
    /// Noise threshold (fraction).
    pub threshold: f64,
    /// True when this metric takes part in the verdict.
    pub gated: bool,
    /// One-sided p-value that NEW is worse.
    pub p_regression: Option<f64>,
    /// Holm-adjusted `p_regression` (gated metrics only).
    pub p_regression_holm: Option<f64>,
    /// One-sided p-value that NEW is better.
    pub p_improvement: Option<f64>,
    /// Holm-adjusted `p_improvement` (gated metrics only).
    pub p_improvement_holm: Option<f64>,
    /// How the p-values were computed.
    pub test_method: Option<MwuMethod>,
    /// Time pairs the paired analysis used (0: the sides were independent samples).
    #[serde(default)]
    pub pairs: usize,
    /// The outcome.
    pub verdict: Verdict,
    /// Why: the figures behind the verdict. It serializes (and displays) as one sentence,
    /// worded by [`crate::compare::output`].
    pub reason: Reason,
    /// True for a "no change" whose interval reaches past the noise threshold: a change that
    /// large is not ruled out (too few pairs or too much noise to tell), unlike one whose
    /// interval lies within ±threshold. Set from `reason` once the verdict is final
    /// ([`MetricResult::settle`]).
    #[serde(default)]
    pub change_not_ruled_out: bool,
}

impl MetricResult {
    /// Fills in what follows from the final verdict and reason; call after the last change to
    /// either (`compare`'s `--strict-env` can still turn a verdict inconclusive after
    /// [`evaluate`]).
    pub fn settle(&mut self) {
        self.change_not_ruled_out = match &self.reason {
            Reason::WithinThreshold(d) | Reason::NotSignificant(d) => d.reaches_past_threshold(),
            _ => false,
        };
    }
}

/// Why a metric got its verdict: the figures the decision used, for the output to word.
#[derive(Clone, Debug, PartialEq)]
pub enum Reason {
    /// No ratio could be computed from the values.
    NoRatio(StatsError),
    /// The metric is reported, never gated.
    NeverGated(Metric),
    /// The metric is gated only with enough latency samples in every iteration.
    TooFewSamples {
        /// The metric.
        metric: Metric,
        /// Samples it needs in every iteration.
        need: u64,
        /// Samples the smallest iteration has.
        has: u64,
    },
    /// A side has fewer iterations than the gate needs.
    TooFewIterations {
        /// BASE iterations.
        base: usize,
        /// NEW iterations.
        new: usize,
        /// The minimum per side.
        min: usize,
    },
    /// Gated, but the significance test could not run.
    Untested,
    /// Significantly worse, with the interval beyond the threshold.
    Worse(Decision),
    /// Significantly better, with the interval beyond the threshold.
    Better(Decision),
    /// Significant, but the interval reaches into the noise threshold.
    WithinThreshold(Decision),
    /// Not significant after Holm's correction.
    NotSignificant(Decision),
    /// `--strict-env`: BASE's and NEW's canaries differ beyond their band (the figures).
    CanaryDiffers(String),
}

/// The figures a gated metric's verdict was decided on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    /// The Holm-adjusted p-value of the direction that decided (for
    /// [`Reason::NotSignificant`] and [`Reason::WithinThreshold`]: the smaller of the two).
    pub p: f64,
    /// The significance level.
    pub alpha: f64,
    /// The interval of the ratio of medians.
    pub interval: ConfidenceInterval,
    /// The noise threshold (fraction).
    pub threshold: f64,
}

impl Decision {
    /// True when the interval reaches past the threshold on either side (above ×(1+t) or below
    /// ÷(1+t)).
    pub fn reaches_past_threshold(&self) -> bool {
        let (ci, t) = (self.interval, self.threshold);
        ci.upper_bound > 1.0 + t || ci.lower_bound < 1.0 / (1.0 + t)
    }
}

/// Computes every metric's interval and tests, corrects across the gated ones, and decides.
/// Results come back in the order of `inputs`.
pub fn evaluate(inputs: &[MetricInput], config: &GateConfig) -> Vec<MetricResult> {
    let mut results: Vec<MetricResult> = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| measure(input, config, i as u64))
        .collect();
    let family: Vec<usize> = (0..results.len())
        .filter(|&i| results[i].gated && results[i].p_regression.is_some())
        .collect();
    let adjust = |pick: fn(&MetricResult) -> Option<f64>| {
        holm(
            &family
                .iter()
                .map(|&i| pick(&results[i]).unwrap_or(1.0))
                .collect::<Vec<_>>(),
        )
    };
    let reg = adjust(|r| r.p_regression);
    let imp = adjust(|r| r.p_improvement);
    for (k, &i) in family.iter().enumerate() {
        results[i].p_regression_holm = Some(reg[k]);
        results[i].p_improvement_holm = Some(imp[k]);
        decide(&mut results[i], config.alpha);
    }
    results.iter_mut().for_each(MetricResult::settle);
    results
}

/// Everything but the Holm step and the final decision.
fn measure(input: &MetricInput, config: &GateConfig, index: u64) -> MetricResult {
    let (b, n) = (&input.base.values, &input.new.values);
    let metric = input.metric;
    let mut r = MetricResult {
        metric,
        unit: input.unit,
        base: SideStats::of(b),
        new: SideStats::of(n),
        ratio: None,
        threshold: config.thresholds.get(metric),
        gated: false,
        p_regression: None,
        p_regression_holm: None,
        p_improvement: None,
        p_improvement_holm: None,
        test_method: None,
        pairs: input.paired.len(),
        verdict: Verdict::NotGated,
        reason: Reason::Untested,
        change_not_ruled_out: false,
    };
    let seed = config
        .seed
        .wrapping_add(index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let paired = &input.paired;
    let ratio = if paired.is_empty() {
        let (bc, nc) = (input.base.clusters(), input.new.clusters());
        ratio_of_medians_clustered(&bc, &nc, config.confidence, seed, config.resamples)
    } else {
        paired_ratio(paired, config.confidence, seed, config.resamples)
    };
    match ratio {
        Ok(e) => r.ratio = Some(e),
        Err(e) => {
            r.verdict = Verdict::Inconclusive;
            r.reason = Reason::NoRatio(e);
            return r;
        }
    }
    let (worse, better) = if metric.lower_is_better() {
        (Alternative::Greater, Alternative::Less)
    } else {
        (Alternative::Less, Alternative::Greater)
    };
    if paired.is_empty() {
        if let (Ok(w), Ok(bt)) = (mann_whitney_u(b, n, worse), mann_whitney_u(b, n, better)) {
            r.p_regression = Some(w.p_value);
            r.p_improvement = Some(bt.p_value);
            r.test_method = Some(w.method);
        }
    } else if let (Ok(w), Ok(bt)) = (sign_test(paired, worse), sign_test(paired, better)) {
        r.p_regression = Some(w);
        r.p_improvement = Some(bt);
        r.test_method = Some(MwuMethod::PairedSign);
    }
    match metric.gating() {
        Gating::Never => {
            r.reason = Reason::NeverGated(metric);
            return r;
        }
        Gating::MinSamples(need) => {
            let has = input
                .base
                .min_latency_count
                .min(input.new.min_latency_count);
            if has < need {
                r.reason = Reason::TooFewSamples { metric, need, has };
                return r;
            }
        }
        Gating::Always => {}
    }
    let too_few = if paired.is_empty() {
        b.len() < config.min_iterations || n.len() < config.min_iterations
    } else {
        paired.len() < config.min_iterations
    };
    if too_few {
        r.verdict = Verdict::Inconclusive;
        r.reason = Reason::TooFewIterations {
            base: b.len(),
            new: n.len(),
            min: config.min_iterations,
        };
        return r;
    }
    r.gated = true;
    r
}

/// The verdict of a gated metric from its adjusted p-values and interval.
fn decide(r: &mut MetricResult, alpha: f64) {
    let (Some(e), Some(p_reg), Some(p_imp)) = (r.ratio, r.p_regression_holm, r.p_improvement_holm)
    else {
        return;
    };
    let ci = e.confidence_interval;
    let t = r.threshold;
    // The threshold is a factor, the same both ways: ×1.05 up or ÷1.05 down. So a comparison
    // that is a regression one way round is an improvement the other way round.
    let (up, down) = (ci.lower_bound > 1.0 + t, ci.upper_bound < 1.0 / (1.0 + t));
    let (worse_beyond, better_beyond) = if r.metric.lower_is_better() {
        (up, down)
    } else {
        (down, up)
    };
    let figures = |p| Decision {
        p,
        alpha,
        interval: ci,
        threshold: t,
    };
    (r.verdict, r.reason) = if p_reg <= alpha && worse_beyond {
        (Verdict::Regression, Reason::Worse(figures(p_reg)))
    } else if p_imp <= alpha && better_beyond {
        (Verdict::Improvement, Reason::Better(figures(p_imp)))
    } else if p_reg <= alpha || p_imp <= alpha {
        (
            Verdict::NoChange,
            Reason::WithinThreshold(figures(p_reg.min(p_imp))),
        )
    } else {
        (
            Verdict::NoChange,
            Reason::NotSignificant(figures(p_reg.min(p_imp))),
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(values: &[f64], count: u64) -> Samples {
        Samples {
            values: values.to_vec(),
            runs: Vec::new(),
            min_latency_count: count,
        }
    }

    #[test]
    fn samples_split_into_their_runs() {
        let s = Samples {
            values: vec![1.0, 2.0, 3.0, 4.0, 5.0],
            runs: vec![2, 3],
            min_latency_count: 0,
        };
        assert_eq!(s.clusters(), vec![&[1.0, 2.0][..], &[3.0, 4.0, 5.0][..]]);
        assert_eq!(samples(&[1.0, 2.0], 0).clusters(), vec![&[1.0, 2.0][..]]);
    }

    #[test]
    fn a_shift_carried_by_one_slow_run_is_not_a_regression() {
        // NEW's second run is 30 % slower as a whole (e.g. a noisy neighbour during it): the
        // rank test finds the pooled values significantly larger, but resampling runs shows the
        // interval is far too wide to call a regression.
        let base = Samples {
            values: [around(100.0, 6), around(100.0, 6)].concat(),
            runs: vec![6, 6],
            min_latency_count: 10,
        };
        let new = Samples {
            values: [around(101.0, 6), around(130.0, 6)].concat(),
            runs: vec![6, 6],
            min_latency_count: 10,
        };
        let r = evaluate(
            &[MetricInput {
                metric: Metric::P50,
                unit: Unit::Nanoseconds,
                base,
                new,
                paired: Vec::new(),
            }],
            &GateConfig::default(),
        );
        assert!(r[0].p_regression_holm.unwrap() <= 0.05, "{r:?}");
        assert_eq!(r[0].verdict, Verdict::NoChange, "{r:?}");
    }

    /// `n` values around `center` with a ±1 % deterministic spread.
    fn around(center: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|i| center * (1.0 + ((i * 7919) % 21) as f64 / 1000.0 - 0.01))
            .collect()
    }

    fn input(metric: Metric, base: Vec<f64>, new: Vec<f64>, count: u64) -> MetricInput {
        MetricInput {
            metric,
            unit: Unit::Nanoseconds,
            base: samples(&base, count),
            new: samples(&new, count),
            paired: Vec::new(),
        }
    }

    #[test]
    fn time_paired_iterations_see_through_a_drifting_machine() {
        // Each iteration runs in a slow or a fast regime; NEW is 10 % slower than the BASE
        // iteration beside it. Unpaired, the regimes drown the change; paired, it is clear.
        let regime = |i: usize| if (i / 3) % 2 == 0 { 100.0 } else { 150.0 };
        let base: Vec<f64> = (0..20).map(regime).collect();
        let new: Vec<f64> = (0..20)
            .map(|i| regime(i) * 1.10 * (1.0 + i as f64 * 1e-4))
            .collect();
        let unpaired = one(Metric::P50, base.clone(), new.clone());
        assert_ne!(unpaired.verdict, Verdict::Regression, "{unpaired:?}");
        let mut paired = input(Metric::P50, base.clone(), new.clone(), 1000);
        paired.paired = base.into_iter().zip(new).collect();
        let r = evaluate(std::slice::from_ref(&paired), &GateConfig::default()).remove(0);
        assert_eq!(r.verdict, Verdict::Regression, "{r:?}");
        assert_eq!(r.test_method, Some(MwuMethod::PairedSign));
        // --resamples reaches the paired interval too.
        let few = GateConfig {
            resamples: 2,
            ..GateConfig::default()
        };
        let f = evaluate(&[paired], &few).remove(0);
        assert_ne!(
            f.ratio.unwrap().confidence_interval,
            r.ratio.unwrap().confidence_interval
        );
    }

    fn one(metric: Metric, base: Vec<f64>, new: Vec<f64>) -> MetricResult {
        evaluate(&[input(metric, base, new, 1000)], &GateConfig::default()).remove(0)
    }

    #[test]
    fn a_clear_latency_increase_is_a_regression() {
        let r = one(Metric::P50, around(100.0, 12), around(115.0, 12));
        assert_eq!(r.verdict, Verdict::Regression, "{r:?}");
        assert!(matches!(r.reason, Reason::Worse(d) if d.p <= 0.05), "{r:?}");
        assert!(r.p_regression_holm.unwrap() <= 0.05);
    }

    #[test]
    fn a_clear_latency_decrease_is_an_improvement_not_a_regression() {
        let r = one(Metric::P50, around(115.0, 12), around(100.0, 12));
        assert_eq!(r.verdict, Verdict::Improvement, "{r:?}");
    }

    #[test]
    fn throughput_is_better_when_higher() {
        let drop = one(Metric::Throughput, around(1000.0, 10), around(800.0, 10));
        assert_eq!(drop.verdict, Verdict::Regression, "{drop:?}");
        let rise = one(Metric::Throughput, around(800.0, 10), around(1000.0, 10));
        assert_eq!(rise.verdict, Verdict::Improvement, "{rise:?}");
    }

    #[test]
    fn a_significant_change_within_the_noise_threshold_is_no_change() {
        let r = one(Metric::P50, around(100.0, 30), around(102.0, 30));
        assert!(r.p_regression_holm.unwrap() <= 0.05, "significant: {r:?}");
        assert_eq!(r.verdict, Verdict::NoChange);
        assert!(matches!(r.reason, Reason::WithinThreshold(_)), "{r:?}");
    }

    #[test]
    fn a_no_change_says_whether_it_rules_out_a_change_beyond_the_threshold() {
        // ±1 % noise, 30 iterations: +2 % is resolved, its interval lies within ±5 %.
        let narrow = one(Metric::P50, around(100.0, 30), around(102.0, 30));
        assert_eq!(narrow.verdict, Verdict::NoChange);
        assert!(!narrow.change_not_ruled_out, "{narrow:?}");
        // ±20 % noise, 6 iterations: the same +2 % is not significant and its interval reaches
        // well past ±5 %.
        let wide = |c: f64| -> Vec<f64> {
            (0..6)
                .map(|i| c * (1.0 + ((i * 7919) % 21) as f64 / 50.0 - 0.2))
                .collect()
        };
        let open = one(Metric::P50, wide(100.0), wide(102.0));
        assert_eq!(open.verdict, Verdict::NoChange);
        assert!(matches!(open.reason, Reason::NotSignificant(_)), "{open:?}");
        assert!(open.change_not_ruled_out, "{open:?}");
        // A regression is decided, whatever its interval.
        let worse = one(Metric::P50, around(100.0, 12), around(115.0, 12));
        assert!(!worse.change_not_ruled_out);
    }

    #[test]
    fn a_lowered_threshold_turns_the_same_change_into_a_regression() {
        let mut config = GateConfig::default();
        config.thresholds.apply("1").unwrap();
        let r = evaluate(
            &[input(Metric::P50, around(100.0, 30), around(102.0, 30), 10)],
            &config,
        );
        assert_eq!(r[0].verdict, Verdict::Regression, "{r:?}");
    }

    #[test]
    fn swapping_the_sides_turns_a_regression_into_an_improvement() {
        // 5.2 % slower: beyond ×1.05 one way; the other way −4.9 %, beyond ÷1.05 (−4.8 %).
        let (b, n) = (vec![100.0; 12], vec![105.2; 12]);
        assert_eq!(
            one(Metric::P50, b.clone(), n.clone()).verdict,
            Verdict::Regression
        );
        assert_eq!(one(Metric::P50, n, b).verdict, Verdict::Improvement);
    }

    #[test]
    fn identical_samples_are_no_change() {
        let v = around(100.0, 10);
        let r = one(Metric::P50, v.clone(), v);
        assert_eq!(r.verdict, Verdict::NoChange);
        assert!(matches!(r.reason, Reason::NotSignificant(_)), "{r:?}");
    }

    #[test]
    fn too_few_iterations_are_inconclusive_whatever_the_change() {
        let r = one(Metric::P50, around(100.0, 4), around(200.0, 12));
        assert_eq!(r.verdict, Verdict::Inconclusive);
        assert!(
            matches!(
                r.reason,
                Reason::TooFewIterations {
                    base: 4,
                    new: 12,
                    min: 5
                }
            ),
            "{r:?}"
        );
        assert!(r.ratio.is_some(), "the ratio is still reported");
    }

    #[test]
    fn p99_is_gated_only_with_100k_samples_per_iteration() {
        let config = GateConfig::default();
        let thin = evaluate(
            &[input(
                Metric::P99,
                around(100.0, 10),
                around(150.0, 10),
                99_999,
            )],
            &config,
        );
        assert_eq!(thin[0].verdict, Verdict::NotGated);
        assert!(
            matches!(
                thin[0].reason,
                Reason::TooFewSamples {
                    need: 100_000,
                    has: 99_999,
                    ..
                }
            ),
            "{thin:?}"
        );
        let rich = evaluate(
            &[input(
                Metric::P99,
                around(100.0, 10),
                around(150.0, 10),
                100_000,
            )],
            &config,
        );
        assert_eq!(rich[0].verdict, Verdict::Regression);
        let tail = one(Metric::P999, around(100.0, 10), around(150.0, 10));
        assert_eq!(tail.verdict, Verdict::NotGated);
    }

    #[test]
    fn holm_correction_spans_every_gated_metric() {
        // Seven iterations per side give an exact one-sided p of 1/3432 at best. A lone
        // 20 % change is caught; among 20 other metrics, Holm's first step needs p ≤ 0.05/21.
        let lone = one(Metric::P50, around(100.0, 7), around(120.0, 7));
        assert_eq!(lone.verdict, Verdict::Regression);
        let raw = lone.p_regression.unwrap();
        let mut inputs = vec![input(Metric::P50, around(100.0, 7), around(120.0, 7), 10)];
        for _ in 0..20 {
            inputs.push(input(
                Metric::Throughput,
                around(100.0, 7),
                around(100.0, 7),
                10,
            ));
        }
        let r = evaluate(&inputs, &GateConfig::default());
        assert_eq!(r[0].p_regression, Some(raw));
        assert!((r[0].p_regression_holm.unwrap() - (raw * 21.0).min(1.0)).abs() < 1e-12);
        assert_eq!(r[0].verdict, Verdict::Regression, "1/3432 × 21 < 0.05");
        let few: Vec<MetricInput> = (0..40)
            .map(|_| input(Metric::P50, around(100.0, 5), around(120.0, 5), 10))
            .collect();
        let r = evaluate(&few, &GateConfig::default());
        // Five per side: p ≥ 1/252, times 40 tests > 0.05: nothing can be significant.
        assert!(r.iter().all(|m| m.verdict == Verdict::NoChange), "{r:?}");
    }

    #[test]
    fn a_zero_base_is_inconclusive_with_a_reason() {
        let r = one(Metric::Throughput, vec![0.0; 6], around(10.0, 6));
        assert_eq!(r.verdict, Verdict::Inconclusive);
        assert_eq!(r.reason, Reason::NoRatio(StatsError::ZeroBase));
    }
}
