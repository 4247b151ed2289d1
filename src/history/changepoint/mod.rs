//! Change points in a series of per-run figures (one case's p50, throughput, ... in commit
//! order), by E-divisive means (Matteson & James 2014, "A nonparametric approach for multiple
//! change point analysis of multivariate data", JASA 109(505), arXiv:1306.4933):
//!
//! 1. Work on log figures, so a step is a ratio whatever the level.
//! 2. In a segment, the candidate is the split that maximises the energy divergence Q̂
//!    (`energy.rs`): it reacts to any change of distribution, not only of the mean, and is
//!    robust to single outliers (α = 1: distances, not squares).
//! 3. The candidate is kept when it is significant at [`Config::alpha`] (`significance.rs`); the
//!    segment is then split in two and both halves are searched again (binary segmentation).
//! 4. Each change point gets its size, median(after)/median(before) over the adjacent final
//!    segments, with a bootstrap interval (`interval.rs`).
//!
//! Runs are the statistical unit: a run's figure is one value, its iterations (when given) only
//! widen the size interval. Series shorter than `2·min_size` runs are not tested at all
//! ([`Analysis::too_short`]). A slow drift is reported as change points (a staircase of
//! same-direction steps); `judge_newest` judges a staircase as a whole.

mod detect;
mod energy;
mod interval;
mod model;
mod regression;
mod search;
mod significance;

pub use detect::detect;
pub use interval::{IntervalConfig, Side};
pub use model::{
    Analysis, ChangePoint, ChangePointError, Config, DEFAULT_ALPHA, DEFAULT_MIN_SIZE,
    DEFAULT_SIZE_WINDOW, Series,
};
pub use regression::{Judgement, RegressionRule, Verdict, judge_newest};
pub use significance::Significance;
