//! Time-paired comparison: when BASE and NEW iterations were measured interleaved in one run,
//! each NEW iteration is paired with the BASE iteration that ran closest in time, and the change
//! is read from the per-pair ratios. On a machine whose speed drifts between regimes within
//! seconds (a shared VM), both members of a pair see the same regime, so the ratio cancels the
//! drift that would otherwise dominate two independent samples.

use super::bootstrap::median_with_interval;
use super::estimate::Estimate;
use super::mann_whitney::Alternative;
use super::sample::StatsError;

/// The median of the per-pair ratios new/base, with a `confidence` percentile-bootstrap
/// interval over the pairs.
pub fn paired_ratio(
    pairs: &[(f64, f64)],
    confidence: f64,
    seed: u64,
    resamples: usize,
) -> Result<Estimate, StatsError> {
    if pairs.iter().any(|&(b, _)| b == 0.0) {
        return Err(StatsError::ZeroBase);
    }
    let ratios: Vec<f64> = pairs.iter().map(|&(b, n)| n / b).collect();
    median_with_interval(&ratios, confidence, seed, resamples)
}

/// The exact one-sided sign test: the probability, if NEW and BASE were exchangeable within each
/// pair, of at least as many pairs going the `alternative` way. Tied pairs are left out.
pub fn sign_test(pairs: &[(f64, f64)], alternative: Alternative) -> Result<f64, StatsError> {
    let (mut up, mut down) = (0u64, 0u64);
    for &(b, n) in pairs {
        if !(b.is_finite() && n.is_finite()) {
            return Err(StatsError::NotFinite("pairs"));
        }
        if n > b {
            up += 1;
        } else if n < b {
            down += 1;
        }
    }
    let k = match alternative {
        Alternative::Greater => up,
        Alternative::Less => down,
    };
    Ok(binomial_upper_tail(up + down, k))
}

/// P(X ≥ k) for X ~ Binomial(n, ½), summed in log space so large n stay exact enough.
fn binomial_upper_tail(n: u64, k: u64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    let ln_choose = |i: u64| {
        libm::lgamma(n as f64 + 1.0)
            - libm::lgamma(i as f64 + 1.0)
            - libm::lgamma((n - i) as f64 + 1.0)
    };
    let ln_half_n = n as f64 * std::f64::consts::LN_2;
    (k..=n)
        .map(|i| (ln_choose(i) - ln_half_n).exp())
        .sum::<f64>()
        .min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_test_matches_the_binomial_tail() {
        // 8 of 10 pairs up: P(X >= 8) = (45 + 10 + 1) / 1024.
        let pairs: Vec<(f64, f64)> = (0..10)
            .map(|i| (1.0, if i < 8 { 2.0 } else { 0.5 }))
            .collect();
        let p = sign_test(&pairs, Alternative::Greater).unwrap();
        assert!((p - 56.0 / 1024.0).abs() < 1e-12, "{p}");
        let q = sign_test(&pairs, Alternative::Less).unwrap();
        assert!((q - (1024.0 - 1.0 - 10.0) / 1024.0).abs() < 1e-12, "{q}");
        assert_eq!(
            sign_test(&[(1.0, 1.0)], Alternative::Greater).unwrap(),
            1.0,
            "ties are left out"
        );
    }

    #[test]
    fn paired_ratios_cancel_a_shared_drift() {
        // The machine is twice as slow for half the pairs; NEW is 10 % slower throughout.
        let pairs: Vec<(f64, f64)> = (0..20)
            .map(|i| {
                let regime = if i % 2 == 0 { 1.0 } else { 2.0 };
                (100.0 * regime, 110.0 * regime * (1.0 + 0.001 * i as f64))
            })
            .collect();
        let e = paired_ratio(&pairs, 0.95, 1, crate::stats::DEFAULT_RESAMPLES).unwrap();
        assert!((e.point - 1.11).abs() < 0.01, "{e:?}");
        assert!(
            e.confidence_interval.lower_bound > 1.10 && e.confidence_interval.upper_bound < 1.12,
            "{e:?}"
        );
        assert!(sign_test(&pairs, Alternative::Greater).unwrap() < 1e-5);
    }
}
