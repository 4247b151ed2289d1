//! Change points on synthetic series with known steps, noise and drift.
//!
//! Every statistical test runs a fixed set of seeds, so it is deterministic: it passes or fails
//! the same way on every run. Its *false-failure rate* is the chance that a fresh set of seeds
//! would fail it: the binomial tail of the threshold at the per-seed rate measured over 1000
//! seeds by `examples/history_rates.rs` (the README's "History and trends" lists those rates). All of them together stay below
//! 1 in 1000.

use crate::synthetic;
use loopbench::history::changepoint::{
    Analysis, ChangePointError, Config, Series, Significance, detect,
};
use loopbench::history::changepoint::{RegressionRule, Verdict, judge_newest};

const LATENCY: RegressionRule = RegressionRule {
    threshold: 0.02,
    lower_is_better: true,
    max_age: None,
};

fn indices(a: &Analysis) -> Vec<usize> {
    a.change_points.iter().map(|c| c.index).collect()
}

/// A property of one analysed series.
type Check<'a> = &'a dyn Fn(&Series, &Analysis, &Config) -> bool;

/// Analyses `make(seed)` for each seed and counts, per check, the seeds for which it holds.
fn count_each<const N: usize>(
    seeds: std::ops::Range<u64>,
    config: &Config,
    make: impl Fn(u64) -> Vec<f64>,
    checks: [Check; N],
) -> [usize; N] {
    let mut counts = [0; N];
    for seed in seeds {
        let config = Config { seed, ..*config };
        let series = Series::new(make(seed));
        let analysis = detect(&series, &config).unwrap();
        for (n, check) in counts.iter_mut().zip(&checks) {
            *n += usize::from(check(&series, &analysis, &config));
        }
    }
    counts
}

/// [`count_each`] with one check.
fn count(
    seeds: std::ops::Range<u64>,
    config: &Config,
    make: impl Fn(u64) -> Vec<f64>,
    ok: impl Fn(&Series, &Analysis, &Config) -> bool,
) -> usize {
    count_each(seeds, config, make, [&ok])[0]
}

/// Per seed (1000 measured): one change point within ±2 runs 85.0 %, exactly at 40 48.5 %,
/// judged a regression 91.4 %. False failure: P(<150/200) = 7.7e-5, P(<70/200) = 4.3e-5,
/// P(<165/200) = 1.9e-5.
#[test]
fn a_5_percent_step_in_3_percent_noise_is_found_at_its_index() {
    let make = |s| synthetic::step(70, 40, 0.05, 0.03, 3_000_000 + s);
    let cfg = Config::default();
    let [near, exact, regression] = count_each(
        0..200,
        &cfg,
        make,
        [
            &|_, a, _| {
                let i = indices(a);
                i.len() == 1 && i[0].abs_diff(40) <= 2
            },
            &|_, a, _| indices(a) == [40],
            &|s, a, c| judge_newest(s, a, &LATENCY, c).verdict == Verdict::Regression,
        ],
    );
    assert!(
        near >= 150,
        "one change point within ±2 runs in {near}/200 seeds"
    );
    assert!(exact >= 70, "exactly at run 40 in {exact}/200 seeds");
    assert!(
        regression >= 165,
        "judged a regression in {regression}/200 seeds"
    );
}

/// Per seed: a change point in pure noise 0.4 % (Student), 1.2 % (permutation), both bounded
/// by α = 1 %. False failure at 1.2 %: P(>10/200) = 3.6e-5 each.
#[test]
fn pure_noise_gives_no_change_point_in_95_percent_of_seeds() {
    let make = |s| synthetic::series(70, 0.03, 1_000_000 + s, |_| 100.0);
    let student = Config::default();
    let permutation = Config {
        significance: Significance::Permutation { permutations: 199 },
        ..student
    };
    for cfg in [student, permutation] {
        let quiet = count(0..200, &cfg, make, |_, a, _| a.change_points.is_empty());
        assert!(
            quiet >= 190,
            "{:?}: no change point in only {quiet}/200 seeds",
            cfg.significance
        );
    }
}

/// A drift (flat for 100 runs, then +0.1 % per run for 100 runs, noise 2 %) is reported as a
/// staircase of upward change points and judged as a whole against the flat part. Per seed:
/// ≥ 2 change points, all up, judged a regression over ≥ 2 steps: 1000/1000 (so ≤ 0.3 % at
/// 95 % confidence). False failure: P(>5/100 fail at 0.3 %) = 6.8e-7.
#[test]
fn a_slow_drift_is_reported_as_a_staircase_and_judged_as_a_whole() {
    let make = |s| {
        synthetic::series(200, 0.02, 6_000_000 + s, |i| {
            100.0 * (1.0 + 0.001 * i.saturating_sub(100) as f64)
        })
    };
    let ok = count(0..100, &Config::default(), make, |s, a, c| {
        let j = judge_newest(s, a, &LATENCY, c);
        a.change_points.len() >= 2
            && a.change_points.iter().all(|cp| cp.ratio.point > 1.0)
            && j.verdict == Verdict::Regression
            && j.steps >= 2
            && j.since.is_some_and(|since| since >= 90)
            && j.ratio.is_some_and(|r| r.point > 1.04)
    });
    assert!(ok >= 95, "drift found and judged in {ok}/100 seeds");
}

/// Steps of +8 %, −6 %, +10 % at runs 30, 60, 90 of 120, noise 2 %: all three within ±1 run
/// and nothing else in 89.3 % of seeds. False failure: P(<75/100) = 5.5e-6.
#[test]
fn multiple_steps_are_all_found() {
    let make = |s| {
        synthetic::series(120, 0.02, 5_000_000 + s, |i| match i {
            0..30 => 100.0,
            30..60 => 108.0,
            60..90 => 101.5,
            _ => 111.65,
        })
    };
    let ok = count(0..100, &Config::default(), make, |_, a, _| {
        let i = indices(a);
        i.len() == 3 && i.iter().zip([30, 60, 90]).all(|(x, t)| x.abs_diff(t) <= 1)
    });
    assert!(ok >= 75, "three steps found in {ok}/100 seeds");
}

/// Fewer than 2·min_size = 6 runs: nothing is tested, and the analysis says so.
#[test]
fn fewer_than_six_runs_are_not_tested() {
    for n in 0..6 {
        let series = Series::new(vec![100.0; n]);
        let a = detect(&series, &Config::default()).unwrap();
        assert!(a.too_short && a.change_points.is_empty(), "{n} runs");
        let j = judge_newest(&series, &a, &LATENCY, &Config::default());
        assert_eq!(j.verdict, Verdict::NoChange);
    }
    let six = detect(
        &Series::new(vec![100.0, 100.0, 100.0, 200.0, 200.0, 200.0]),
        &Config::default(),
    );
    let six = six.unwrap();
    assert!(!six.too_short);
    assert_eq!(indices(&six), [3]);
}

/// 6 runs, then 4 runs twice as slow (the shape of the end-to-end test). Per seed:
/// exactly [6] 98.5 %, judged a regression 100 % (1000/1000). False failure: P(<92/100) =
/// 1.3e-5, P(<95/100 at 99.7 %) = 3e-6. The permutation test cannot do this: 2/C(10,4) ≈ 0.0095
/// is its smallest p-value here, so it finds the step in only 42 % of seeds at α = 1 %.
#[test]
fn six_runs_then_four_slower_runs_are_a_regression_at_the_seventh() {
    let make = |s| synthetic::step(10, 6, 1.0, 0.03, 4_000_000 + s);
    let cfg = Config::default();
    let [exact, regression] = count_each(
        0..100,
        &cfg,
        make,
        [&|_, a, _| indices(a) == [6], &|s, a, c| {
            let j = judge_newest(s, a, &LATENCY, c);
            j.verdict == Verdict::Regression && j.since == Some(6)
        }],
    );
    assert!(exact >= 92, "exactly [6] in {exact}/100 seeds");
    assert!(
        regression >= 95,
        "regression since run 6 in {regression}/100 seeds"
    );
}

#[test]
fn the_same_series_and_seed_give_the_same_analysis() {
    let series = Series::new(synthetic::step(80, 50, 0.08, 0.03, 42));
    for significance in [
        Significance::Student,
        Significance::Permutation { permutations: 99 },
    ] {
        let cfg = Config {
            significance,
            seed: 9,
            ..Config::default()
        };
        assert_eq!(
            detect(&series, &cfg).unwrap(),
            detect(&series, &cfg).unwrap()
        );
    }
}

#[test]
fn throughput_that_falls_is_a_regression_and_one_that_rises_is_not() {
    let throughput = RegressionRule {
        lower_is_better: false,
        ..LATENCY
    };
    let cfg = Config::default();
    let down = Series::new(synthetic::step(40, 30, -0.2, 0.01, 7));
    let a = detect(&down, &cfg).unwrap();
    assert_eq!(
        judge_newest(&down, &a, &throughput, &cfg).verdict,
        Verdict::Regression
    );
    assert_eq!(
        judge_newest(&down, &a, &LATENCY, &cfg).verdict,
        Verdict::Improvement
    );
    let up = Series::new(synthetic::step(40, 30, 0.2, 0.01, 7));
    let a = detect(&up, &cfg).unwrap();
    assert_eq!(
        judge_newest(&up, &a, &throughput, &cfg).verdict,
        Verdict::Improvement
    );
}

#[test]
fn a_step_below_the_threshold_is_within_threshold_and_an_old_one_is_not_judged() {
    let cfg = Config::default();
    let small = Series::new(synthetic::step(400, 200, 0.01, 0.002, 11));
    let a = detect(&small, &cfg).unwrap();
    assert_eq!(indices(&a), [200]);
    assert_eq!(
        judge_newest(&small, &a, &LATENCY, &cfg).verdict,
        Verdict::WithinThreshold
    );
    let big = Series::new(synthetic::step(400, 200, 0.2, 0.01, 11));
    let a = detect(&big, &cfg).unwrap();
    let recent = RegressionRule {
        max_age: Some(250),
        ..LATENCY
    };
    let old = RegressionRule {
        max_age: Some(150),
        ..LATENCY
    };
    assert_eq!(
        judge_newest(&big, &a, &recent, &cfg).verdict,
        Verdict::Regression
    );
    assert_eq!(
        judge_newest(&big, &a, &old, &cfg).verdict,
        Verdict::NoChange
    );
}

#[test]
fn iterations_are_used_for_the_interval_and_must_align_with_runs() {
    let values = vec![
        100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 150.0, 150.0, 150.0, 150.0,
    ];
    let plain = detect(&Series::new(values.clone()), &Config::default()).unwrap();
    let its: Vec<Vec<f64>> = values.iter().map(|&v| vec![v * 0.9, v, v * 1.1]).collect();
    let with = detect(
        &Series {
            values: values.clone(),
            iterations: its,
        },
        &Config::default(),
    );
    let with = with.unwrap();
    assert_eq!(indices(&plain), [6]);
    assert_eq!(indices(&with), [6]);
    let width = |a: &Analysis| {
        let ci = a.change_points[0].ratio.confidence_interval;
        ci.upper_bound - ci.lower_bound
    };
    assert_eq!(width(&plain), 0.0);
    assert!(width(&with) > 0.05);
    let misaligned = Series {
        values,
        iterations: vec![vec![1.0]],
    };
    assert!(matches!(
        detect(&misaligned, &Config::default()),
        Err(ChangePointError::Misaligned {
            iterations: 1,
            runs: 10
        })
    ));
}

#[test]
fn figures_that_are_not_positive_are_refused_with_their_run() {
    let err = detect(&Series::new(vec![1.0, 2.0, 0.0, 4.0]), &Config::default()).unwrap_err();
    assert_eq!(
        err,
        ChangePointError::NotPositive {
            index: 2,
            value: 0.0
        }
    );
    assert!(err.to_string().contains("run 2"));
    let nan = detect(&Series::new(vec![1.0, f64::NAN]), &Config::default()).unwrap_err();
    assert!(matches!(
        nan,
        ChangePointError::NotPositive { index: 1, .. }
    ));
}
