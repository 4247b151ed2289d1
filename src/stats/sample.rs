//! What every statistic checks and needs of a sample: finite values, and its median.

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
pub(super) fn check(values: &[f64], which: &'static str) -> Result<(), StatsError> {
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
pub fn median_in_place(v: &mut [f64]) -> f64 {
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

/// The median absolute deviation from the median (unscaled); NaN when empty.
pub fn mad(values: &[f64]) -> f64 {
    let m = median(values);
    let mut dev: Vec<f64> = values.iter().map(|v| (v - m).abs()).collect();
    median_in_place(&mut dev)
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
    fn mads() {
        assert_eq!(mad(&[1.0, 2.0, 3.0, 4.0, 100.0]), 1.0);
    }
}
