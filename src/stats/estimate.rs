//! The shape every statistic here returns: a point estimate with its confidence interval.

use serde::{Deserialize, Serialize};

/// A two-sided confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Estimate {
    /// The estimate from the samples as they are (`point_estimate` in JSON, as criterion's
    /// estimates.json names it).
    #[serde(rename = "point_estimate", alias = "point")]
    pub point: f64,
    /// The bootstrap confidence interval.
    pub confidence_interval: ConfidenceInterval,
    /// Standard deviation of the bootstrap distribution.
    pub standard_error: f64,
}

impl Estimate {
    /// The farther end's distance from the point, relative to the point: the "±X %" of the
    /// interval (infinite when the point is 0 or an end is not finite).
    pub fn half_width_rel(&self) -> f64 {
        let ci = &self.confidence_interval;
        let side = (self.point - ci.lower_bound).max(ci.upper_bound - self.point);
        if self.point == 0.0 || !side.is_finite() {
            f64::INFINITY
        } else {
            side / self.point.abs()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_contain_their_ends() {
        let ci = ConfidenceInterval {
            confidence_level: 0.95,
            lower_bound: 1.0,
            upper_bound: 2.0,
        };
        assert!(ci.contains(1.0) && ci.contains(2.0) && ci.contains(1.5));
        assert!(!ci.contains(0.99) && !ci.contains(2.01));
        let e = Estimate {
            point: 100.0,
            confidence_interval: ConfidenceInterval {
                confidence_level: 0.95,
                lower_bound: 99.0,
                upper_bound: 103.0,
            },
            standard_error: 1.0,
        };
        assert!((e.half_width_rel() - 0.03).abs() < 1e-12);
    }
}
