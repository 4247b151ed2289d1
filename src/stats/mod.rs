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
//!
//! Trust on noisy machines (issue 13): [`robust`] marks disturbed iterations (a canary outside
//! its robust band, interference beyond a threshold), [`precision`] is the stopping rule of
//! `--precision` (with [`median_with_interval_clustered`], the hierarchical bootstrap it uses),
//! [`synthetic`] data with known variance to test them.

mod bootstrap;
mod estimate;
mod holm;
mod mann_whitney;
mod paired;
pub mod precision;
pub mod robust;
mod sample;
pub mod synthetic;

pub use bootstrap::{
    DEFAULT_RESAMPLES, difference_of_medians, difference_of_medians_clustered,
    median_with_interval, median_with_interval_clustered, ratio_of_medians,
    ratio_of_medians_clustered, ratio_of_medians_with,
};
pub use estimate::{ConfidenceInterval, Estimate};
pub use holm::holm;
pub use mann_whitney::{
    Alternative, EXACT_MAX_N, MannWhitney, MwuMethod, mann_whitney_u, min_attainable_p,
};
pub use paired::{paired_ratio, sign_test};
pub use sample::{StatsError, median, median_in_place};
