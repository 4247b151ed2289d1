//! What run.json says about trust on a noisy machine: per iteration its canary and
//! interference (in [`IterationExtras`](super::optional::IterationExtras)) and why it counts as
//! disturbed; per case how many iterations were disturbed and why, its canary, and the
//! precision it reached; per run the canary settings, the bands and the precision target. Every
//! field is optional: runs written before have none and read as before. What iteration records
//! add up to is in [`super::trust_tally`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::metrics::canary::CanaryConfig;
use crate::stats::robust::{BandUse, Policy, Reason};

/// Why an iteration counts as disturbed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Disturbance {
    /// A short stable name: `canary_spin`, `canary_wake`, `canary_incomplete`, `steal`,
    /// `foreign_cpu`, `interrupts`, `switches`, `migrations`.
    pub kind: String,
    /// The figures, in words.
    pub detail: String,
}

impl From<&Reason> for Disturbance {
    fn from(r: &Reason) -> Disturbance {
        Disturbance {
            kind: r.kind().to_string(),
            detail: r.to_string(),
        }
    }
}

/// The median canary of a set of iterations.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CanarySummary {
    /// The two CPUs it ran on.
    pub cpus: [usize; 2],
    /// Median over the iterations of the spin probe's p50, ns.
    pub spin_p50_ns: Option<f64>,
    /// Median over the iterations of the wake-up probe's p50, ns.
    pub wake_p50_ns: Option<f64>,
    /// Iterations with a canary.
    pub iterations: u32,
}

/// The precision a case reached (`--precision`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PrecisionRecord {
    /// The metric it is about: `p50` (latency) or `throughput` (stream).
    pub metric: String,
    /// The target half-width, relative (0.02 for ±2 %).
    pub target_rel: f64,
    /// Confidence level of the interval.
    pub confidence: f64,
    /// The estimate: median of the per-iteration figures.
    pub point: f64,
    /// Lower end of its interval.
    pub lower: f64,
    /// Upper end of its interval.
    pub upper: f64,
    /// The half-width reached, relative: the farther end's distance from the point.
    pub reached_rel: f64,
    /// Iterations it rests on.
    pub iterations: u32,
    /// True when the target was met.
    pub reached: bool,
}

/// What a case's iterations say about the machine while it ran.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CaseTrust {
    /// Iterations marked disturbed.
    pub disturbed: u32,
    /// How many iterations each reason marked (an iteration may have several).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reasons: BTreeMap<String, u32>,
    /// The case's median canary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<CanarySummary>,
    /// The precision reached, with `--precision`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<PrecisionRecord>,
}

/// How the canary bands of one pair of CPUs were used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CanaryBandsRecord {
    /// The two CPUs.
    pub cpus: [usize; 2],
    /// The spin probe's band.
    pub spin: BandUse,
    /// The wake-up probe's band.
    pub wake: BandUse,
}

/// The `--precision` settings of a run and how it ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PrecisionSettings {
    /// The target half-width, relative (0.02 for ±2 %).
    pub target_rel: f64,
    /// `--max-time` in nanoseconds.
    pub max_time_ns: u64,
    /// Rounds run (the planned iterations count as rounds too).
    pub rounds: u32,
    /// Why it stopped: `reached`, `max-time`, `max-rounds` or `interrupted`.
    pub stopped: String,
}

/// The run's trust settings and bands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunTrust {
    /// The canary's settings; `None` when no canary was taken (`--no-canary`).
    pub canary: Option<CanaryConfig>,
    /// The thresholds and band settings that marked iterations.
    pub policy: Policy,
    /// Per pair of CPUs, how its canary bands were used.
    #[serde(default)]
    pub bands: Vec<CanaryBandsRecord>,
    /// `--precision`, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<PrecisionSettings>,
}
