//! What a study stores: `study.json` (the study, its schedule and the outcome of every run) and,
//! beside each run's run.json, `variant.json` (the variant's settings as applied and read back,
//! and the host's environment at the time).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::cpucost::CpuCost;
use super::settings::{AppliedSetting, Variant};
use super::sweep::Sweep;
use crate::host::environment::Environment;
use crate::spec::CaseId;

/// Layout version of study.json and variant.json.
pub const STUDY_SCHEMA_VERSION: u32 = 1;

/// How one run of the study ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Not started yet.
    Pending,
    /// Every case measured.
    Done,
    /// Stored, but a case failed.
    CaseFailed,
    /// The variant could not be applied or the child failed; nothing measured.
    Failed,
    /// Stopped by Ctrl-C; what finished is stored.
    Interrupted,
}

/// One variant in one round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StudyRun {
    /// Round, from 1.
    pub round: u32,
    /// Variant name.
    pub variant: String,
    /// Seed of the run's case order.
    pub run_seed: u64,
    /// How it ended.
    pub status: RunStatus,
    /// Its run id (under `runs/`), once stored.
    pub run_id: Option<String>,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

/// `results/studies/<id>/study.json`.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StudyRecord {
    /// See [`STUDY_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `<UTC stamp>-<suffix>-<name slug>`.
    pub study_id: String,
    /// The study's name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// The file it came from.
    pub file: Option<PathBuf>,
    /// The file's text.
    pub source: String,
    /// RFC 3339 start.
    pub started_at: String,
    /// RFC 3339 end.
    pub finished_at: Option<String>,
    /// True when every run finished.
    pub complete: bool,
    /// True after Ctrl-C.
    pub interrupted: bool,
    /// Seed of the round order.
    pub seed: u64,
    /// Rounds.
    pub rounds: u32,
    /// True when namespaces started from the host's net sysctls.
    pub inherit_host_sysctls: bool,
    /// The cases (before variant overrides), by case id.
    pub cases: Vec<CaseId>,
    /// The variants; the first is the baseline.
    pub variants: Vec<Variant>,
    /// The sweeps and the variants of their points.
    #[serde(default)]
    pub sweeps: Vec<Sweep>,
    /// Every run, in the order they ran.
    pub runs: Vec<StudyRun>,
    /// The host before the study.
    pub host_environment: Environment,
    /// Differences of the host's /proc/sys/net and lo between before and after (empty: none).
    pub host_differences: Option<Vec<String>>,
    /// The journal of host changes, when --allow-host-changes was used.
    pub journal: Option<PathBuf>,
    /// What the journal restore reported.
    pub host_restore: Vec<String>,
    /// With `--precision`: the target, why the rounds stopped and what each comparison reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<StudyPrecision>,
}

/// `study --precision`: rounds were added until every comparison's interval was narrow enough.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StudyPrecision {
    /// The target half-width of each interval, relative (0.02: ±2 %).
    pub target_rel: f64,
    /// `--max-time`: the most time all rounds together may take, in nanoseconds.
    pub max_time_ns: u64,
    /// Rounds run (the study's `rounds` are the minimum).
    pub rounds: u32,
    /// Why no further round ran: `reached`, `max-time`, `max-rounds`,
    /// `interrupted`, `failed` (`running` while rounds are added).
    pub stopped: String,
    /// Each case and variant after the last round.
    pub cases: Vec<StudyCasePrecision>,
}

/// The precision one case of one variant reached: the interval of its main figure's ratio to
/// the baseline (of its own median when the study has one variant).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StudyCasePrecision {
    /// The study's case.
    pub case: CaseId,
    /// The variant.
    pub variant: String,
    /// The figure (`p50`, `throughput`).
    pub figure: String,
    /// The ratio variant/baseline (or the median) and its 95 % interval; absent until both
    /// sides have samples.
    pub estimate: Option<crate::stats::Estimate>,
    /// The interval's half-width relative to its point (the "±X %" reached).
    pub half_width_rel: f64,
    /// True when `half_width_rel` is within the target.
    pub reached: bool,
}

/// One case of a variant's run: the study's case and the id it ran under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CaseMapping {
    /// The study's case id (before the variant's overrides).
    pub study_case: CaseId,
    /// The case id in this run (after them).
    pub run_case: CaseId,
}

/// `runs/<run-id>/variant.json`.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VariantRunRecord {
    /// See [`STUDY_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The study.
    pub study_id: String,
    /// The variant.
    pub variant: String,
    /// The round.
    pub round: u32,
    /// Cases.
    pub cases: Vec<CaseMapping>,
    /// Namespace settings as applied and read back.
    pub namespace_settings: Vec<AppliedSetting>,
    /// The host's net sysctls copied into the namespace first.
    pub inherited_sysctls: std::collections::BTreeMap<String, String>,
    /// Host settings as applied and read back (with --allow-host-changes).
    pub host_settings: Vec<AppliedSetting>,
    /// The host when the run started (run.json's `environment` is the namespace's view).
    pub host_environment: Environment,
    /// The CPUs' busy and idle-polling time over the run (absent in studies before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_cost: Option<CpuCost>,
}

pub use crate::store::{read_json, write_json};
