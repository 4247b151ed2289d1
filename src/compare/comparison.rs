//! What a comparison found: the value `compare` returns and `--format json` prints.

use serde::{Deserialize, Serialize};

use super::env::EnvDifference;
use super::gate::{GateConfig, MetricResult};
use super::metric::Metric;
use super::trust::CaseTrust;
use crate::spec::CaseId;

/// Version of the comparison's JSON layout (`--format json`, comparison.json). 2: the field was
/// called `format_version` before, and estimates carry `point_estimate` (was `point`).
pub const SCHEMA_VERSION: u32 = 2;

/// One run of a side, as shown in reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunSummary {
    /// Its run.json.
    pub path: String,
    /// Its id.
    pub run_id: String,
    /// Tool version and git revision that measured it.
    pub tool: String,
    /// False when it was interrupted or is still running.
    pub complete: bool,
    /// 1-minute load average when it started.
    pub loadavg_1m: Option<f64>,
}

/// One case compared.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CaseComparison {
    /// The case id on the BASE side.
    pub base_case: CaseId,
    /// The case id on the NEW side (the same unless paired with `--pair`).
    pub new_case: CaseId,
    /// One entry per metric the case has.
    pub metrics: Vec<MetricResult>,
    /// Anything the reader should know (errors, differing iteration lengths, what was left
    /// out as disturbed, both sides' canaries).
    pub notes: Vec<String>,
    /// Disturbed iterations per side, whether they were left out, both sides' canaries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust: Option<CaseTrust>,
}

/// How many metrics got each verdict.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct VerdictCounts {
    /// Regressions.
    pub regressions: usize,
    /// Improvements.
    pub improvements: usize,
    /// No change.
    pub no_change: usize,
    /// Inconclusive.
    pub inconclusive: usize,
    /// Reported only.
    pub not_gated: usize,
}

/// The whole comparison: what `--format json` prints.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Comparison {
    /// Layout version ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The method's settings.
    pub config: GateConfig,
    /// Gated comparisons Holm's correction spans.
    pub holm_family: usize,
    /// BASE runs.
    pub base: Vec<RunSummary>,
    /// NEW runs.
    pub new: Vec<RunSummary>,
    /// Matched cases.
    pub cases: Vec<CaseComparison>,
    /// Cases only BASE has.
    pub only_in_base: Vec<CaseId>,
    /// Cases only NEW has.
    pub only_in_new: Vec<CaseId>,
    /// Environment settings that differ.
    pub environment: Vec<EnvDifference>,
    /// Caveats about the whole comparison.
    pub warnings: Vec<String>,
    /// Verdict counts.
    pub counts: VerdictCounts,
    /// `ab --precision`: the target, the rounds and the precision each case reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision: Option<ComparisonPrecision>,
}

/// The precision of one compared case: the half-width of its primary metric's ratio interval.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CasePrecision {
    /// The case (NEW's id).
    pub case: CaseId,
    /// Its primary metric: p50, or throughput for a case without latency.
    pub metric: Metric,
    /// The ratio interval's half-width, relative (the farther end).
    pub half_width_rel: f64,
    /// True when within the target.
    pub reached: bool,
}

/// What `ab --precision` reached.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ComparisonPrecision {
    /// The target half-width, relative (0.02 for ±2 %).
    pub target_rel: f64,
    /// Rounds run.
    pub rounds: u32,
    /// Why the rounds stopped: `reached` or `max-time`.
    pub stopped: String,
    /// Per case.
    pub cases: Vec<CasePrecision>,
}

impl Comparison {
    /// True when some gated metric regressed: the gate fails.
    pub fn has_regression(&self) -> bool {
        self.counts.regressions > 0
    }

    /// Per case, the half-width of its primary metric's ratio interval (p50, else throughput)
    /// and whether it is within `target_rel`; a case without a ratio has an infinite width.
    pub fn precisions(&self, target_rel: f64) -> Vec<CasePrecision> {
        self.cases
            .iter()
            .filter_map(|c| {
                let m = c
                    .metrics
                    .iter()
                    .find(|m| m.metric == Metric::P50)
                    .or_else(|| c.metrics.iter().find(|m| m.metric == Metric::Throughput))?;
                let w = m.ratio.map_or(f64::INFINITY, |e| e.half_width_rel());
                Some(CasePrecision {
                    case: c.new_case.clone(),
                    metric: m.metric,
                    half_width_rel: w,
                    reached: w <= target_rel,
                })
            })
            .collect()
    }
}
