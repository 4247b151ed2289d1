//! The uncertainty of the anatomy's layers, from the per-iteration medians in run.json, with the
//! regression gate's bootstrap: each level is the median of a case's per-iteration p50s with its
//! 95 % percentile-bootstrap interval, each layer the difference of two such medians with the
//! bootstrap interval of that difference.

use crate::stats::{DEFAULT_RESAMPLES, difference_of_medians, median_with_interval};

/// Confidence level of every interval the anatomy shows.
pub const CONFIDENCE: f64 = 0.95;

/// Bootstrap seed: the same run always gives the same chart.
const SEED: u64 = 1;

/// A value with its interval, in nanoseconds.
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

    fn from(e: Result<crate::stats::Estimate, crate::stats::StatsError>) -> Estimate {
        match e {
            Ok(e) => Estimate {
                point_ns: e.point,
                low_ns: e.confidence_interval.lower_bound,
                high_ns: e.confidence_interval.upper_bound,
            },
            // No usable values: a zero with no width, which the chart shows as missing data.
            Err(_) => Estimate {
                point_ns: 0.0,
                low_ns: 0.0,
                high_ns: 0.0,
            },
        }
    }
}

/// The level of one case: the median of its per-iteration medians with its interval.
pub fn level(per_iteration_p50_ns: &[f64]) -> Estimate {
    Estimate::from(median_with_interval(
        per_iteration_p50_ns,
        CONFIDENCE,
        SEED,
        DEFAULT_RESAMPLES,
    ))
}

/// The difference `upper − lower` of two cases' levels with its interval.
pub fn difference(upper: &[f64], lower: &[f64]) -> Estimate {
    Estimate::from(difference_of_medians(lower, upper, CONFIDENCE, SEED))
}
