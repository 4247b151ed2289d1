//! The on-disk schema: `run.json`. Field names carry their unit (`p50_ns`, `msgs_per_sec`) and
//! every spec uses the command line's own spellings, so scripts can read it without guessing.
//!
//! Compatibility: readers accept any `schema_version` up to [`SCHEMA_VERSION`] (older layouts are
//! rewritten by [`migrate`](super::migrate) first); a newer file is refused with a message that
//! names it. Version 2 split the spec's `extras` into named parts.

use serde::{Deserialize, Serialize};

use crate::host::environment::Environment;
use crate::host::topology::ResolvedPlacement;
use crate::metrics::clock::TimerCheck;
use crate::metrics::clock_sync::ClockSync;
use crate::metrics::counters::Counters;
use crate::metrics::histogram::LatencySummary;
pub use crate::metrics::memcpy::MemcpyReference;
use crate::metrics::rusage::SideUsage;
pub use crate::metrics::series::Slice;
use crate::spec::{CaseId, Spec};
pub use crate::store::optional::{IterationExtras, SummaryExtras};
use crate::store::trust::RunTrust;
use crate::transport::ConnInfo;
use crate::transport::limits::Clamped;

/// Version of the run.json layout written by this build.
pub const SCHEMA_VERSION: u32 = 2;

/// The tool that wrote a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ToolInfo {
    /// `loopbench`.
    pub name: String,
    /// Crate version.
    pub version: String,
    /// `git describe` of the build, when it was built from a git checkout.
    pub git_revision: Option<String>,
}

impl ToolInfo {
    /// This build.
    pub fn current() -> ToolInfo {
        ToolInfo {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            git_revision: option_env!("LOOPBENCH_GIT_REVISION")
                .filter(|s| !s.is_empty())
                .map(Into::into),
        }
    }
}

/// One entry of the order in which the run executed its slots.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScheduledSlot {
    /// The case.
    pub case_id: CaseId,
    /// The measured iteration, or `None` for the case's warm-up.
    pub iteration: Option<u32>,
}

/// A whole run: `results/runs/<run-id>/run.json`.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunRecord {
    /// Layout version; see [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `20261127T183705Z-4f2a`: UTC start time and a random suffix.
    pub run_id: String,
    /// The tool that wrote it.
    pub tool: ToolInfo,
    /// The exact command line.
    pub command_line: Vec<String>,
    /// The suite name, when run by `loopbench suite`.
    pub suite: Option<String>,
    /// Free-form label (`--label`), e.g. a variant name in a study.
    pub label: Option<String>,
    /// RFC 3339 start time (UTC).
    pub started_at: String,
    /// RFC 3339 end time, once finished.
    pub finished_at: Option<String>,
    /// True when every slot ran; false while running, after Ctrl-C, or after an abort.
    pub complete: bool,
    /// True when the run was interrupted (Ctrl-C/SIGTERM).
    pub interrupted: bool,
    /// Seed of the shuffled schedule.
    pub seed: u64,
    /// The machine as it was at the start.
    pub environment: Environment,
    /// The timer self-check.
    pub timer: TimerCheck,
    /// `--stages`: the check that stamps from the workers' CPUs can be subtracted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_clock: Option<ClockSync>,
    /// Every case, in the order they were specified.
    pub cases: Vec<CaseRecord>,
    /// The order the slots actually ran in (interleaved, shuffled).
    pub schedule: Vec<ScheduledSlot>,
    /// The canary settings, the bands that marked disturbed iterations, `--precision`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<RunTrust>,
    /// Cases of the suite this machine could not place, so left out (`loopbench suite`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedCases>,
}

/// Cases of a suite left out of a run because the machine cannot run them as the suite asks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SkippedCases {
    /// The placement the machine cannot satisfy, e.g. `cross-smt`, when that is why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<String>,
    /// Why, e.g. "needs two SMT siblings; this machine has none".
    pub reason: String,
    /// The case ids left out.
    pub cases: Vec<String>,
}

impl std::fmt::Display for SkippedCases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} case(s)", self.cases.len())?;
        if let Some(p) = &self.placement {
            write!(f, " at {p}")?;
        }
        write!(f, " skipped: {}", self.reason)
    }
}

/// How a run ended, in a word: complete, interrupted (Ctrl-C) or incomplete (stopped early or
/// still running).
pub fn run_state(complete: bool, interrupted: bool) -> &'static str {
    match (complete, interrupted) {
        (true, _) => "complete",
        (false, true) => "interrupted",
        (false, false) => "incomplete",
    }
}

/// A start time as people read it: `2026-11-27 22:56:04` from the RFC 3339 timestamp.
pub fn short_time(rfc3339: &str) -> String {
    rfc3339.get(..19).unwrap_or(rfc3339).replace('T', " ")
}

/// Where a case's histogram files are, relative to the run directory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CaseFiles {
    /// Percentile distribution of the merged histogram (`cases/<id>/latency.hgrm`).
    pub hgrm: Option<String>,
    /// Interval log, one interval per iteration (`cases/<id>/latency.hlog`).
    pub hlog: Option<String>,
    /// `rate`: percentiles of the latency from the actual send time
    /// (`cases/<id>/latency-actual.hgrm`); `hgrm` is then the corrected one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hgrm_actual: Option<String>,
    /// `rate`: interval log of the latency from the actual send time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hlog_actual: Option<String>,
    /// `--stages`: the directory with one `<stage>.hgrm` per user-space stage
    /// (`cases/<id>/stages`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stages: Option<String>,
    /// `--trace`: the directory with one `<key>.hgrm` per kernel stage
    /// (`cases/<id>/kernel-stages`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_stages: Option<String>,
    /// A mix of request kinds: the directory with one `<kind>.hgrm` per kind
    /// (`cases/<id>/kinds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<String>,
}

/// One case of a run.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CaseRecord {
    /// The canonical case id.
    pub case_id: CaseId,
    /// The spec, with the command line's spellings.
    pub spec: Spec,
    /// The CPUs the placement resolved to (empty lists: not pinned).
    pub requested_cpus: ResolvedPlacement,
    /// Measured iterations, in the order they ran.
    pub iterations: Vec<IterationRecord>,
    /// Merged over all iterations, once at least one finished.
    pub summary: Option<CaseSummary>,
    /// What went wrong, if anything; a failed case keeps the iterations it finished.
    pub errors: Vec<String>,
    /// True when every iteration ran.
    pub complete: bool,
    /// Histogram files.
    pub files: CaseFiles,
    /// The client's and the server's view of the first connection.
    pub connection: Option<(ConnInfo, ConnInfo)>,
    /// What a reader must know to read the result right (a memory load sharing a worker's CPU,
    /// counters this kernel does not expose, a buffer the kernel clamped).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Buffer sizes (`--sndbuf`, `--rcvbuf`) the kernel set to something other than asked: the
    /// case id keeps what was asked, this says what was measured.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clamped: Vec<Clamped>,
}

/// What one side did over an iteration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SideRecord {
    /// CPU time and context switches, with per-message figures.
    pub usage: SideUsage,
    /// Messages, bytes, datagram accounting.
    pub counters: Counters,
    /// CPUs its threads were seen on.
    pub cpus: Vec<usize>,
    /// CPU migrations of its threads (se.nr_migrations); null when the kernel does not
    /// expose them.
    #[serde(default)]
    pub migrations: Option<u64>,
    /// The part of `usage` spent in threads the engine started for this side: io_uring's
    /// kernel SQPOLL thread (`io_uring-sqpoll`), tokio-mt's runtime workers. Absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_threads: Option<SideUsage>,
}

/// One measured iteration (one fresh connection set): the statistical sample unit.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IterationRecord {
    /// Index within the case (0-based), in the order the case's iterations ran.
    pub index: u32,
    /// When it started, in nanoseconds since the run started.
    pub started_offset_ns: u64,
    /// Time over which `messages` and `bytes` were counted: the clients' measuring time for
    /// `rr`, the receivers' span from start to the last data for `stream`.
    pub elapsed_ns: u64,
    /// Messages counted: round trips (`rr`) or messages received (`stream`).
    #[serde(default)]
    pub messages: u64,
    /// Payload bytes received, both directions for `rr`.
    #[serde(default)]
    pub bytes: u64,
    /// Latency distribution of this iteration.
    pub latency: LatencySummary,
    /// `messages` per second.
    pub msgs_per_sec: f64,
    /// `bytes` per second.
    pub bytes_per_sec: f64,
    /// The client side.
    pub client: SideRecord,
    /// The server side.
    pub server: SideRecord,
    /// Throughput over time within the iteration, counted at the receiver (empty when the
    /// workload does not keep a time series).
    #[serde(default)]
    pub slices: Vec<Slice>,
    /// Per-flow results, `rate`'s schedule, `crr`'s ports, softirqs, memory load.
    #[serde(flatten, default)]
    pub extras: IterationExtras,
}

/// Minimum, median and maximum of one figure over a case's iterations: how stable it was.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Spread {
    /// Smallest iteration value.
    pub min: f64,
    /// Median of the iteration values.
    pub median: f64,
    /// Largest iteration value.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; all zeros when empty.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Spread {
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return Spread::default();
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Spread {
            min: v[0],
            median,
            max: v[n - 1],
        }
    }
}

/// A case merged over its iterations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CaseSummary {
    /// Iterations merged.
    pub iterations: u32,
    /// Latency of the merged histogram.
    pub latency: LatencySummary,
    /// Total messages / total measured time.
    pub msgs_per_sec: f64,
    /// Total payload bytes received / total measured time.
    pub bytes_per_sec: f64,
    /// Per-iteration medians: how much p50 moved between iterations.
    pub p50_ns_spread: Spread,
    /// Per-iteration message rates.
    pub msgs_per_sec_spread: Spread,
    /// Client side over all iterations.
    pub client: SideRecord,
    /// Server side over all iterations.
    pub server: SideRecord,
    /// The memcpy reference, for workloads that move bulk data.
    #[serde(default)]
    pub memcpy: Option<MemcpyReference>,
    /// `bytes_per_sec / memcpy.bytes_per_sec`: the share of one memcpy stream the transport
    /// achieved (loopback TCP copies each byte at least twice, so well below 1).
    #[serde(default)]
    pub copy_efficiency: Option<f64>,
    /// Per-flow totals, `rate`'s schedule, `crr`'s ports, softirqs, memory load.
    #[serde(flatten, default)]
    pub extras: SummaryExtras,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_takes_the_median() {
        let s = Spread::of([3.0, 1.0, 2.0]);
        assert_eq!((s.min, s.median, s.max), (1.0, 2.0, 3.0));
        assert_eq!(Spread::of([1.0, 2.0, 3.0, 10.0]).median, 2.5);
        assert_eq!(Spread::of(std::iter::empty()), Spread::default());
    }
}
