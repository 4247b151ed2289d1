//! What a comparison found: the value `compare` returns and `--format json` prints.

use serde::{Deserialize, Serialize};

use super::env::EnvDifference;
use super::gate::{GateConfig, MetricResult};
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
    /// Anything the reader should know (errors, differing iteration lengths).
    pub notes: Vec<String>,
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
}

impl Comparison {
    /// True when some gated metric regressed: the gate fails.
    pub fn has_regression(&self) -> bool {
        self.counts.regressions > 0
    }
}
