//! How a study is run and what passed its checks: the types the study's preparation
//! (execute.rs) and its rounds (rounds.rs) share.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::settings::{HostSettings, NamespaceSettings};
use crate::run::precision::PrecisionRequest;
use crate::spec::Spec;

/// Rounds when neither the command line nor the file gives any.
pub const DEFAULT_ROUNDS: u32 = 3;

/// Most rounds of a study: each runs every variant once.
pub const MAX_ROUNDS: u32 = 1000;

/// How a study is run.
#[derive(Clone, Debug)]
pub struct StudyOptions {
    /// The study file's path, recorded.
    pub file: Option<PathBuf>,
    /// Rounds (default: the file's, else 3).
    pub rounds: Option<u32>,
    /// Results directory; the study goes to `DIR/studies/<id>/`.
    pub output: PathBuf,
    /// Seed of the round order (random when `None`; recorded).
    pub seed: Option<u64>,
    /// Allow host-wide settings (journaled and restored).
    pub allow_host_changes: bool,
    /// Change the host even while tuned or irqbalance run.
    pub force: bool,
    /// The journal file.
    pub journal: PathBuf,
    /// The loopbench binary the variants run in.
    pub exe: PathBuf,
    /// The command line, recorded.
    pub command_line: Vec<String>,
    /// `--precision`: add rounds until every comparison is that narrow, or `--max-time`.
    pub precision: Option<PrecisionRequest>,
    /// `--no-canary`: the variants' runs take no drift canary.
    pub no_canary: bool,
}

/// A variant split by scope, checked.
#[derive(Clone, Debug)]
pub struct PreparedVariant {
    /// Its cases after overrides.
    pub specs: Vec<Spec>,
    /// Namespace settings.
    pub namespace: NamespaceSettings,
    /// Host settings.
    pub host: HostSettings,
}

/// A study that passed every check.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// Per variant, in file order.
    pub variants: Vec<PreparedVariant>,
    /// Host values of per-namespace net sysctls to copy into each namespace.
    pub inherit: BTreeMap<String, String>,
    /// Every check's result, one line each, for `--dry-run`.
    pub checks: Vec<String>,
}
