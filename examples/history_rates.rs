//! Measures detection and false-positive rates of the change-point search on synthetic series:
//! the per-seed rates NOTES.md turns into the tests' false-failure rates.
//! `cargo run --release --example history_rates [SEEDS]`.

#[path = "../tests/history/synthetic.rs"]
mod synthetic;

use loopbench::history::changepoint::{Analysis, Config, Series, Significance, detect};
use loopbench::history::changepoint::{RegressionRule, Verdict, judge_newest};

fn rate(
    name: &str,
    seeds: u64,
    config: &Config,
    make: impl Fn(u64) -> Vec<f64>,
    ok: impl Fn(&Series, &Analysis, &Config) -> bool,
) {
    let mut hits = 0;
    for seed in 0..seeds {
        // A fresh permutation seed per series: with one seed for all, structurally equal series
        // would all meet the same permutations.
        let config = Config { seed, ..*config };
        let series = Series::new(make(seed));
        let a = detect(&series, &config).unwrap();
        if ok(&series, &a, &config) {
            hits += 1;
        }
    }
    println!(
        "{name:64} {hits:5}/{seeds} = {:.4}",
        hits as f64 / seeds as f64
    );
}

fn idx(a: &Analysis) -> Vec<usize> {
    a.change_points.iter().map(|c| c.index).collect()
}

const LATENCY: RegressionRule = RegressionRule {
    threshold: 0.02,
    lower_is_better: true,
    max_age: None,
};

fn verdict(s: &Series, a: &Analysis, c: &Config) -> Verdict {
    judge_newest(s, a, &LATENCY, c).verdict
}

fn main() {
    let seeds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let student = Config::default();
    let perm = Config {
        significance: Significance::Permutation { permutations: 199 },
        ..student
    };
    for (label, cfg) in [("student", student), ("perm199", perm)] {
        let flat =
            |n: usize, base: u64| move |s: u64| synthetic::series(n, 0.03, base + s, |_| 100.0);
        for (n, base) in [
            (10, 0),
            (70, 1_000_000),
            (200, 2_000_000),
            (1000, 9_000_000),
        ] {
            rate(
                &format!("{label} noise 3% n={n}: no change point"),
                seeds,
                &cfg,
                flat(n, base),
                |_, a, _| a.change_points.is_empty(),
            );
        }
        rate(
            &format!("{label} noise 3% n=70: verdict regression"),
            seeds,
            &cfg,
            flat(70, 1_000_000),
            |s, a, c| verdict(s, a, c) == Verdict::Regression,
        );
        let step = |s| synthetic::step(70, 40, 0.05, 0.03, 3_000_000 + s);
        rate(
            &format!("{label} step 5% @40 n=70 noise 3%: exactly [40]"),
            seeds,
            &cfg,
            step,
            |_, a, _| idx(a) == [40],
        );
        rate(
            &format!("{label} step 5% @40 n=70 noise 3%: one cp, within ±2"),
            seeds,
            &cfg,
            step,
            |_, a, _| {
                let i = idx(a);
                i.len() == 1 && i[0].abs_diff(40) <= 2
            },
        );
        rate(
            &format!("{label} step 5% @40 n=70 noise 3%: verdict regression"),
            seeds,
            &cfg,
            step,
            |s, a, c| verdict(s, a, c) == Verdict::Regression,
        );
        let short = |step: f64| move |s| synthetic::step(10, 6, step, 0.03, 4_000_000 + s);
        rate(
            &format!("{label} step x2 @6 n=10 noise 3%: exactly [6]"),
            seeds,
            &cfg,
            short(1.0),
            |_, a, _| idx(a) == [6],
        );
        rate(
            &format!("{label} step x2 @6 n=10 noise 3%: verdict regression"),
            seeds,
            &cfg,
            short(1.0),
            |s, a, c| verdict(s, a, c) == Verdict::Regression,
        );
        rate(
            &format!("{label} step 10% @6 n=10 noise 3%: exactly [6]"),
            seeds,
            &cfg,
            short(0.10),
            |_, a, _| idx(a) == [6],
        );
        rate(
            &format!("{label} noise 3% n=10: verdict regression"),
            seeds,
            &cfg,
            flat(10, 0),
            |s, a, c| verdict(s, a, c) == Verdict::Regression,
        );
        let multi = |s| {
            synthetic::series(120, 0.02, 5_000_000 + s, |i| match i {
                0..30 => 100.0,
                30..60 => 108.0,
                60..90 => 101.5,
                _ => 111.65,
            })
        };
        rate(
            &format!("{label} steps +8% -6% +10% @30,60,90 n=120 noise 2%: 3 cps ±1"),
            seeds,
            &cfg,
            multi,
            |_, a, _| {
                let i = idx(a);
                i.len() == 3 && i.iter().zip([30, 60, 90]).all(|(x, t)| x.abs_diff(t) <= 1)
            },
        );
        let drift = |s| {
            synthetic::series(200, 0.02, 6_000_000 + s, |i| {
                if i < 100 {
                    100.0
                } else {
                    100.0 * (1.0 + 0.001 * (i - 100) as f64)
                }
            })
        };
        rate(
            &format!("{label} flat 100 + ramp +10%/100 runs, noise 2%: ≥1 cp, all up"),
            seeds,
            &cfg,
            drift,
            |_, a, _| {
                !a.change_points.is_empty() && a.change_points.iter().all(|c| c.ratio.point > 1.0)
            },
        );
        rate(
            &format!("{label} flat 100 + ramp +10%/100 runs, noise 2%: ≥2 cps"),
            seeds,
            &cfg,
            drift,
            |_, a, _| a.change_points.len() >= 2,
        );
        rate(
            &format!("{label} flat 100 + ramp +10%/100 runs, noise 2%: verdict regression"),
            seeds,
            &cfg,
            drift,
            |s, a, c| verdict(s, a, c) == Verdict::Regression,
        );
        rate(
            &format!("{label} flat 100 + ramp: regression with steps ≥ 2"),
            seeds,
            &cfg,
            drift,
            |s, a, c| {
                let j = judge_newest(s, a, &LATENCY, c);
                j.verdict == Verdict::Regression && j.steps >= 2
            },
        );
    }
}
