//! Two-sample statistics for per-iteration values, shared by the gate (`loopbench compare`), the
//! tuning studies and the report's charts. Everything here takes plain `&[f64]` samples, one value
//! per iteration (never individual requests: those are autocorrelated), and is deterministic for
//! a given seed.
//!
//! The public API is small:
//!
//! - [`ratio_of_medians`]`(base, new, confidence, seed) -> Result<`[`Estimate`]`>`: the ratio
//!   median(NEW)/median(BASE) with a percentile-bootstrap confidence interval
//!   ([`DEFAULT_RESAMPLES`] resamples; [`ratio_of_medians_with`] takes the count, and
//!   [`ratio_of_medians_clustered`] resamples runs first, then iterations within them).
//! - [`mann_whitney_u`]`(base, new, `[`Alternative`]`) -> Result<`[`MannWhitney`]`>`: the
//!   one-sided rank-sum test; exact without ties for up to [`EXACT_MAX_N`] values per side,
//!   otherwise the normal approximation with tie and continuity correction.
//! - [`holm`]`(&p_values) -> Vec<f64>`: Holm–Bonferroni adjusted p-values (step-down), to compare
//!   directly with α.
//! - [`median`] and [`min_attainable_p`] (the smallest p-value the exact test can give for two
//!   sample sizes: below α/m nothing can ever be significant).

mod bootstrap;
mod holm;
mod mann_whitney;
mod paired;

use serde::{Deserialize, Serialize};

pub use bootstrap::{
    DEFAULT_RESAMPLES, difference_of_medians, median_with_interval, ratio_of_medians,
    ratio_of_medians_clustered, ratio_of_medians_with,
};
pub use holm::holm;
pub use mann_whitney::{
    Alternative, EXACT_MAX_N, MannWhitney, MwuMethod, mann_whitney_u, min_attainable_p,
};
pub use paired::{paired_ratio, sign_test};

/// A two-sided confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceInterval {
    /// Nominal coverage, e.g. 0.95.
    pub confidence_level: f64,
    /// Lower end.
    pub lower_bound: f64,
    /// Upper end.
    pub upper_bound: f64,
}

impl ConfidenceInterval {
    /// True when `x` lies inside the interval (ends included).
    pub fn contains(&self, x: f64) -> bool {
        self.lower_bound <= x && x <= self.upper_bound
    }
}

/// A point estimate with its uncertainty (criterion's shape).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The estimate from the samples as they are.
    pub point: f64,
    /// The bootstrap confidence interval.
    pub confidence_interval: ConfidenceInterval,
    /// Standard deviation of the bootstrap distribution.
    pub standard_error: f64,
}

/// Why a statistic cannot be computed from the samples given.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// A sample without values.
    #[error("the {0} sample is empty")]
    Empty(&'static str),
    /// NaN or infinity among the values.
    #[error("the {0} sample contains a value that is not a finite number")]
    NotFinite(&'static str),
    /// A ratio whose denominator is zero.
    #[error("the median of the base sample is 0: a ratio to it is undefined")]
    ZeroBase,
    /// A confidence level outside (0, 1).
    #[error("confidence level {0} must lie strictly between 0 and 1 (e.g. 0.95)")]
    BadConfidence(f64),
}

/// Checks a sample: not empty, all finite.
fn check(values: &[f64], which: &'static str) -> Result<(), StatsError> {
    if values.is_empty() {
        return Err(StatsError::Empty(which));
    }
    if values.iter().any(|v| !v.is_finite()) {
        return Err(StatsError::NotFinite(which));
    }
    Ok(())
}

/// The median (mean of the two middle values for an even count); NaN when empty.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    median_in_place(&mut v)
}

/// The median of `v`, reordering it (no allocation).
pub(crate) fn median_in_place(v: &mut [f64]) -> f64 {
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    let (_, &mut upper, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        upper
    } else {
        // After the selection every value left of n/2 is ≤ upper: the lower middle is their max.
        let lower = v[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower + upper) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[7.0]), 7.0);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn intervals_contain_their_ends() {
        let ci = ConfidenceInterval {
            confidence_level: 0.95,
            lower_bound: 1.0,
            upper_bound: 2.0,
        };
        assert!(ci.contains(1.0) && ci.contains(2.0) && ci.contains(1.5));
        assert!(!ci.contains(0.99) && !ci.contains(2.01));
    }
}
