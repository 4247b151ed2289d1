use super::*;
use crate::stats::bootstrap::median_with_interval_clustered;
use crate::stats::estimate::ConfidenceInterval;
use crate::stats::synthetic::{binomial_acceptance, normal, rng};

/// An interval function that ignores the data: ±`w` around 100.
fn fixed(w: f64) -> impl Fn(&[&[f64]], f64) -> Option<Estimate> {
    move |_, c| {
        Some(Estimate {
            point: 100.0,
            confidence_interval: ConfidenceInterval {
                confidence_level: c,
                lower_bound: 100.0 * (1.0 - w),
                upper_bound: 100.0 * (1.0 + w),
            },
            standard_error: 0.0,
        })
    }
}

fn budget(max_s: u64, spent_s: u64, per_round_s: u64) -> Budget {
    Budget {
        max: Duration::from_secs(max_s),
        spent: Duration::from_secs(spent_s),
        per_round: Duration::from_secs(per_round_s),
    }
}

#[test]
fn reaching_needs_both_the_width_and_the_minimum_rounds() {
    let t = Target::new(0.02);
    let r: Vec<Vec<f64>> = vec![vec![1.0]; 4];
    let views: Vec<&[f64]> = r.iter().map(Vec::as_slice).collect();
    let early = assess(&views, &t, fixed(0.01)).unwrap();
    assert!(
        !early.reached && early.rounds == 4 && early.rounds_needed == 5,
        "{early:?}"
    );
    let views5: Vec<&[f64]> = vec![&r[0][..]; 5];
    let ok = assess(&views5, &t, fixed(0.02)).unwrap();
    assert!(ok.reached && ok.rounds_needed == 5, "{ok:?}");
    assert!(assess(&views5, &t, |_, _| None).is_none());
}

#[test]
fn the_projection_scales_with_the_square_of_the_width() {
    let t = Target::new(0.02);
    assert_eq!(projected_rounds(6, 0.04, &t), 24);
    assert_eq!(projected_rounds(6, 0.021, &t), 7);
    assert_eq!(projected_rounds(2, 0.01, &t), 5, "never below min_rounds");
    assert!(projected_rounds(6, f64::INFINITY, &t) > 1_000_000);
}

#[test]
fn decisions_follow_the_cases_and_the_budget() {
    let t = Target::new(0.02);
    let five: Vec<&[f64]> = vec![&[1.0][..]; 5];
    let done = assess(&five, &t, fixed(0.015)).unwrap();
    let wide = assess(&five, &t, fixed(0.04)).unwrap(); // needs 20 rounds: 15 more
    assert_eq!(
        decide(&[done, done], &budget(100, 50, 10)),
        Decision::Reached
    );
    assert_eq!(
        decide(&[done, wide], &budget(300, 50, 10)),
        Decision::More {
            rounds: 15,
            within_budget: true
        }
    );
    assert_eq!(
        decide(&[done, wide], &budget(100, 50, 10)),
        Decision::More {
            rounds: 15,
            within_budget: false
        }
    );
    assert_eq!(
        decide(&[done, wide], &budget(100, 95, 10)),
        Decision::BudgetSpent
    );
    assert_eq!(
        decide(&[], &budget(100, 0, 10)),
        Decision::More {
            rounds: 1,
            within_budget: true
        }
    );
}

/// The synthetic case: true p50 10 000 ns; each round shifts it by a log-normal round effect
/// (log-sd 0.02) and holds 3 iterations with log-normal noise (log-sd 0.05). Both are symmetric
/// in logs, so the median of all values tends to the true p50.
fn round(r: &mut impl rand::Rng) -> Vec<f64> {
    let shift = 0.02 * normal(r);
    (0..3)
        .map(|_| 10_000.0 * (shift + 0.05 * normal(r)).exp())
        .collect()
}

/// One sequential run to ±2 % (at most 80 rounds): (covered, reached, rounds, projection made
/// after the minimum rounds).
fn sequential(seed: u64, resamples: usize) -> (bool, bool, usize, usize) {
    let (t, mut r) = (Target::new(0.02), rng(seed));
    let mut rounds: Vec<Vec<f64>> = Vec::new();
    let mut first_projection = 0;
    loop {
        rounds.push(round(&mut r));
        let views: Vec<&[f64]> = rounds.iter().map(Vec::as_slice).collect();
        let n = views.len() as u64;
        let p = assess(&views, &t, |v, c| {
            median_with_interval_clustered(v, c, seed ^ (n << 32), resamples).ok()
        })
        .unwrap();
        if p.rounds == t.min_rounds {
            first_projection = p.rounds_needed;
        }
        if p.reached || p.rounds == 80 {
            return (
                p.estimate.confidence_interval.contains(10_000.0),
                p.reached,
                p.rounds,
                first_projection,
            );
        }
    }
}

/// The intervals the stopping rule ends with contain the true p50 at about the nominal 95 %
/// (the prototype measured 0.958 ± 0.003 over 4000 such runs with 500 resamples). The count
/// over 150 runs is accepted from 131 up, the lower 1e-4 tail of Binomial(150, 0.95): at a true
/// coverage of 0.95 this fails with probability 6e-5 (at 0.958, 5e-6); a rule that stopped on
/// narrow-by-chance intervals covering 85 % would pass it only 25 % of the time.
#[test]
fn the_stopping_rule_keeps_its_coverage_on_synthetic_data() {
    let runs = 150;
    let covered = (0..runs).filter(|&s| sequential(1000 + s, 250).0).count() as u64;
    let (lo, _) = binomial_acceptance(runs, 0.95, 2e-4);
    assert_eq!(lo, 131);
    assert!(
        covered >= lo,
        "{covered}/{runs} covered, at least {lo} expected"
    );
}
