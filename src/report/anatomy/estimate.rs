//! The uncertainty of the anatomy's layers: a deliberately simple spread from the per-iteration
//! medians that run.json already holds. This file is the one place to switch to the regression
//! gate's bootstrap (`compare`) once that exists.

/// A value with a rough interval, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// The point estimate.
    pub point_ns: f64,
    /// Lower end of the interval.
    pub low_ns: f64,
    /// Upper end of the interval.
    pub high_ns: f64,
}

impl Estimate {
    /// Half the width of the interval.
    pub fn half_width_ns(&self) -> f64 {
        (self.high_ns - self.low_ns) / 2.0
    }
}

fn median_and_half_range(values: &[f64]) -> (f64, f64) {
    let s = crate::store::record::Spread::of(values.iter().copied());
    (s.median, (s.max - s.min) / 2.0)
}

/// The level of one case: the median of its per-iteration medians, ± half their range.
pub fn level(per_iteration_p50_ns: &[f64]) -> Estimate {
    let (m, h) = median_and_half_range(per_iteration_p50_ns);
    Estimate {
        point_ns: m,
        low_ns: m - h,
        high_ns: m + h,
    }
}

/// The difference `upper − lower` of two cases' levels, with the half-ranges of their
/// per-iteration medians combined in quadrature.
///
/// This is a deliberately simple, documented spread (not a confidence interval): with 5
/// iterations half the range is roughly one to two standard errors of the median. It is the one
/// place to switch to the gate's bootstrap (`compare`) once that exists.
pub fn difference(upper: &[f64], lower: &[f64]) -> Estimate {
    let (a, ha) = median_and_half_range(upper);
    let (b, hb) = median_and_half_range(lower);
    let d = a - b;
    let h = (ha * ha + hb * hb).sqrt();
    Estimate {
        point_ns: d,
        low_ns: d - h,
        high_ns: d + h,
    }
}
