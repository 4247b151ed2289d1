//! What change-point detection takes and gives: its settings, a series of per-run figures, the
//! change points found, and why a series cannot be analysed.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::interval::Side;
use super::significance::Significance;
use crate::stats::Estimate;

/// Default significance level of one change point.
pub const DEFAULT_ALPHA: f64 = 0.01;
/// Default minimum runs on each side of a change point.
pub const DEFAULT_MIN_SIZE: usize = 3;
/// Default number of runs nearest a change point, on each side, that its size is taken from.
pub const DEFAULT_SIZE_WINDOW: usize = 100;

/// How change points are found and sized.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config {
    /// Significance level of each change point (0.01).
    pub alpha: f64,
    /// Fewest runs on either side of a change point (3; at least 2).
    pub min_size: usize,
    /// The test (Student by default).
    pub significance: Significance,
    /// Confidence level of the size intervals (0.95).
    pub confidence: f64,
    /// Bootstrap resamples per size interval (1000).
    pub resamples: usize,
    /// The size uses at most this many runs on each side, those nearest the change (100).
    pub size_window: usize,
    /// Seed of the permutations and the bootstrap.
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            alpha: DEFAULT_ALPHA,
            min_size: DEFAULT_MIN_SIZE,
            significance: Significance::Student,
            confidence: 0.95,
            resamples: 1000,
            size_window: DEFAULT_SIZE_WINDOW,
            seed: 1,
        }
    }
}

/// A series of per-run figures, oldest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    /// One figure per run (must be positive and finite).
    pub values: Vec<f64>,
    /// Per run, its per-iteration values; empty when unknown (for all runs or for one).
    pub iterations: Vec<Vec<f64>>,
}

impl Series {
    /// A series without per-iteration values.
    pub fn new(values: Vec<f64>) -> Series {
        Series {
            values,
            iterations: Vec::new(),
        }
    }

    /// One side of a change: the runs in `range` with their iterations.
    pub fn side(&self, range: Range<usize>) -> Side<'_> {
        let iterations = self.iterations.get(range.clone()).unwrap_or(&[]);
        Side {
            runs: &self.values[range],
            iterations,
        }
    }
}

/// One change point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChangePoint {
    /// Index of the first run of the new segment.
    pub index: usize,
    /// p-value of the test that accepted it (Bonferroni-adjusted for Student).
    pub p_value: f64,
    /// median(after)/median(before), with its interval.
    pub ratio: Estimate,
    /// The runs before it that the size was taken from.
    pub before: Range<usize>,
    /// The runs from it on that the size was taken from.
    pub after: Range<usize>,
    /// Energy divergence Q̂ of the split when it was found (log scale).
    pub q_hat: f64,
}

/// What [`detect`](super::detect) found in one series.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Analysis {
    /// Runs in the series.
    pub runs: usize,
    /// Change points, oldest first.
    pub change_points: Vec<ChangePoint>,
    /// True when the series has fewer than `2·min_size` runs: nothing was tested.
    pub too_short: bool,
}

impl Analysis {
    /// The segments between change points, oldest first.
    pub fn segments(&self) -> Vec<Range<usize>> {
        let mut bounds = vec![0];
        bounds.extend(self.change_points.iter().map(|c| c.index));
        bounds.push(self.runs);
        bounds.windows(2).map(|w| w[0]..w[1]).collect()
    }
}

/// Why a series cannot be analysed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ChangePointError {
    /// A figure that is zero, negative or not a number.
    #[error("run {index} has figure {value}: change points need positive, finite figures")]
    NotPositive {
        /// Position in the series.
        index: usize,
        /// The figure.
        value: f64,
    },
    /// Per-iteration values given for some runs but not aligned with the series.
    #[error("{iterations} per-iteration lists for {runs} runs: give one list per run, or none")]
    Misaligned {
        /// Lists given.
        iterations: usize,
        /// Runs in the series.
        runs: usize,
    },
    /// A configuration value out of range.
    #[error("invalid change-point setting: {0}")]
    Config(&'static str),
}

/// A deterministic per-change-point seed, so one interval does not depend on the others.
pub fn interval_seed(seed: u64, index: usize) -> u64 {
    seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}
