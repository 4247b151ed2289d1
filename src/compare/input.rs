//! The two sides of a comparison. Each side is one or more runs, each argument named as
//! everywhere else ([`resolve_runs`]: a run directory, a run.json, a directory holding runs,
//! `latest`, a run id or a unique prefix of one, a saved baseline). Runs are loaded with the store's schema
//! checks and pooled per case id.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::spec::{CaseId, Spec};
use crate::store::find::resolve_runs;
use crate::store::load_run;
use crate::store::record::{IterationRecord, RunRecord};

/// One loaded run.
#[derive(Clone, Debug)]
pub struct LoadedRun {
    /// Its run.json.
    pub path: PathBuf,
    /// Its contents.
    pub record: RunRecord,
}

#[cfg(test)]
impl LoadedRun {
    /// A synthetic run `id` of one case, tcp4 rr 64 B blocking cross-core, one iteration per
    /// entry of `p50s` (the comparison tests' runs; nothing on disk).
    pub(crate) fn tcp4_rr(id: &str, p50s: &[u64]) -> LoadedRun {
        use crate::report::fixture;
        use crate::spec::{EngineKind, Placement, Transport};
        let case = fixture::rr(
            Transport::Tcp4,
            EngineKind::Blocking,
            Placement::CrossCore,
            64,
            p50s,
        );
        let mut record = fixture::run(&[case]).record;
        record.run_id = id.into();
        LoadedRun {
            path: format!("/nonexistent/{id}/run.json").into(),
            record,
        }
    }
}

/// The runs of one side.
#[derive(Clone, Debug)]
pub struct Side {
    /// The arguments that named them.
    pub inputs: Vec<String>,
    /// The runs, in the order found (each run once).
    pub runs: Vec<LoadedRun>,
}

/// Loads every run the arguments name ([`resolve_runs`], with run ids and baselines looked up in
/// `results`), each once.
pub fn load_side(which: &str, args: &[String], results: &Path) -> Result<Side> {
    let mut runs: Vec<LoadedRun> = Vec::new();
    for arg in args {
        for path in resolve_runs(arg, results).with_context(|| format!("{which} side"))? {
            let record = load_run(&path).with_context(|| format!("{which} side"))?;
            if !runs.iter().any(|r| r.record.run_id == record.run_id) {
                runs.push(LoadedRun { path, record });
            }
        }
    }
    Ok(Side {
        inputs: args.to_vec(),
        runs,
    })
}

/// One case's iterations pooled over a side's runs.
#[derive(Clone, Debug)]
pub struct PooledCase<'a> {
    /// The spec (of the first run that has the case).
    pub spec: &'a Spec,
    /// Every measured iteration, run after run.
    pub iterations: Vec<&'a IterationRecord>,
    /// How many of `iterations` each run contributed, in order.
    pub per_run: Vec<usize>,
    /// The run id of each entry of `per_run`.
    pub run_ids: Vec<&'a str>,
    /// Errors recorded for the case, with the run they come from.
    pub errors: Vec<String>,
    /// Distinct iteration lengths seen (more than one makes the pool questionable).
    pub lengths: Vec<String>,
    /// True when the case's workers were pinned (in the first run that has it).
    pub pinned: bool,
}

impl<'a> PooledCase<'a> {
    /// The iterations of each run, with the run's id, in run order.
    pub fn by_run(&self) -> Vec<(&'a str, &[&'a IterationRecord])> {
        let mut out = Vec::new();
        let mut rest = self.iterations.as_slice();
        for (&n, &id) in self.per_run.iter().zip(&self.run_ids) {
            let (run, tail) = rest.split_at(n);
            out.push((id, run));
            rest = tail;
        }
        out
    }

    /// The same case with only the iterations whose `keep` entry is true (in order).
    pub fn filtered(&self, keep: &[bool]) -> PooledCase<'a> {
        let mut out = self.clone();
        out.iterations.clear();
        out.per_run.clear();
        let mut rest = self.iterations.as_slice();
        let mut flags = keep;
        for &n in &self.per_run {
            let (run, tail) = rest.split_at(n);
            let (k, ktail) = flags.split_at(n);
            let before = out.iterations.len();
            out.iterations
                .extend(run.iter().zip(k).filter(|(_, k)| **k).map(|(i, _)| *i));
            out.per_run.push(out.iterations.len() - before);
            (rest, flags) = (tail, ktail);
        }
        out
    }
}

fn describe_length(spec: &Spec) -> String {
    match spec.timing.length {
        crate::spec::IterationLength::Duration { duration_ns } => {
            humantime::format_duration(std::time::Duration::from_nanos(duration_ns)).to_string()
        }
        crate::spec::IterationLength::Count { messages } => format!("{messages} messages"),
    }
}

/// Pools a side's runs by case id.
pub fn pool(side: &Side) -> BTreeMap<CaseId, PooledCase<'_>> {
    let mut out: BTreeMap<CaseId, PooledCase<'_>> = BTreeMap::new();
    for run in &side.runs {
        for case in &run.record.cases {
            let p = out
                .entry(case.case_id.clone())
                .or_insert_with(|| PooledCase {
                    spec: &case.spec,
                    iterations: Vec::new(),
                    per_run: Vec::new(),
                    run_ids: Vec::new(),
                    errors: Vec::new(),
                    lengths: Vec::new(),
                    pinned: !case.requested_cpus.client.is_empty(),
                });
            p.iterations.extend(case.iterations.iter());
            p.per_run.push(case.iterations.len());
            p.run_ids.push(&run.record.run_id);
            p.errors.extend(
                case.errors
                    .iter()
                    .map(|e| format!("run {}: {e}", run.record.run_id)),
            );
            let length = describe_length(&case.spec);
            if !p.lengths.contains(&length) {
                p.lengths.push(length);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_side_loads_each_run_once_and_names_the_side_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        let err = format!(
            "{:#}",
            load_side("BASE", &["nightly".into()], dir.path()).unwrap_err()
        );
        assert!(
            err.starts_with("BASE side") && err.contains("'nightly'"),
            "{err}"
        );
        let v1 = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/run-v1.json");
        let v1 = v1.to_string_lossy().into_owned();
        let side = load_side("NEW", &[v1.clone(), v1], dir.path()).unwrap();
        assert_eq!(side.runs.len(), 1);
    }
}
