//! Synthetic data with known variance, for testing statistics: normal draws (Box–Muller over a
//! seeded generator), the normal tail, and binomial tails for stating how often a statistical
//! test fails by chance.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A seeded generator.
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// One standard normal draw.
pub fn normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The arithmetic mean; NaN when empty.
pub fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The standard normal cumulative distribution function.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// P(X ≤ k) for X ~ Binomial(n, p), summed in log space.
pub fn binomial_cdf(n: u64, p: f64, k: u64) -> f64 {
    let ln_choose = |i: u64| {
        libm::lgamma(n as f64 + 1.0)
            - libm::lgamma(i as f64 + 1.0)
            - libm::lgamma((n - i) as f64 + 1.0)
    };
    (0..=k.min(n))
        .map(|i| (ln_choose(i) + i as f64 * p.ln() + (n - i) as f64 * (1.0 - p).ln()).exp())
        .sum::<f64>()
        .min(1.0)
}

/// The widest `[lo, hi]` count range such that a Binomial(n, p) count falls outside it with
/// probability at most `alpha` (half in each tail).
pub fn binomial_acceptance(n: u64, p: f64, alpha: f64) -> (u64, u64) {
    let lo = (0..=n)
        .find(|&k| binomial_cdf(n, p, k) > alpha / 2.0)
        .unwrap_or(0);
    let hi = (0..=n)
        .find(|&k| 1.0 - binomial_cdf(n, p, k) <= alpha / 2.0)
        .unwrap_or(n);
    (lo, hi)
}

#[cfg(test)]
#[test]
fn binomial_tails_match_known_values() {
    // P(X ≤ 1) for Binomial(10, 0.5) = 11/1024.
    assert!((binomial_cdf(10, 0.5, 1) - 11.0 / 1024.0).abs() < 1e-12);
    let (lo, hi) = binomial_acceptance(400, 0.95, 0.001);
    assert_eq!(mean(&[1.0, 2.0, 6.0]), 3.0);
    assert!((normal_cdf(1.959964) - 0.975).abs() < 1e-6);
    assert!((2.0 * normal_cdf(-3.0) - 0.0026998).abs() < 1e-6);
    assert!(lo < 380 && hi > 380 && hi <= 400, "{lo} {hi}");
}
