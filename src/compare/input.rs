//! The two sides of a comparison. Each side is one or more runs, named by run directories,
//! run.json files, saved baseline names, or directories holding runs (every run.json one or two
//! levels below, as in a baseline or an `ab` session). Runs are loaded with the store's schema
//! checks and pooled per case id.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::error::UsageError;
use crate::spec::{CaseId, Spec};
use crate::store::baseline;
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

/// The runs of one side.
#[derive(Clone, Debug)]
pub struct Side {
    /// The arguments that named them.
    pub inputs: Vec<String>,
    /// The runs, in the order found (each run once).
    pub runs: Vec<LoadedRun>,
}

/// The run.json files below `dir` at depth one or two, sorted.
fn runs_below(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let children = |d: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(d)
            .map(|r| {
                r.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_dir())
                    .collect()
            })
            .unwrap_or_default()
    };
    for child in children(dir) {
        if child.join("run.json").is_file() {
            found.push(child.join("run.json"));
        } else {
            found.extend(
                children(&child)
                    .into_iter()
                    .map(|g| g.join("run.json"))
                    .filter(|p| p.is_file()),
            );
        }
    }
    found.sort();
    found
}

/// The run.json files one argument names; `results` is where baselines are looked up.
pub fn resolve(arg: &str, results: &Path) -> Result<Vec<PathBuf>> {
    let path = Path::new(arg);
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    if path.is_dir() {
        if path.join("run.json").is_file() {
            return Ok(vec![path.join("run.json")]);
        }
        let found = runs_below(path);
        if found.is_empty() {
            return Err(UsageError(format!(
                "{} holds no run: expected a run.json in it, or in its subdirectories one or two levels down",
                path.display()
            ))
            .into());
        }
        return Ok(found);
    }
    if let Some(dir) = baseline::find(results, arg) {
        return resolve(&dir.to_string_lossy(), results);
    }
    let names: Vec<String> = baseline::list(results)
        .unwrap_or_default()
        .into_iter()
        .map(|b| b.name)
        .collect();
    Err(UsageError(format!(
        "'{arg}' is not a run directory, a run.json, or a saved baseline ({}); see `loopbench baseline list`",
        if names.is_empty() {
            format!("{} holds none", baseline::baselines_dir(results).display())
        } else {
            format!("known: {}", names.join(", "))
        }
    ))
    .into())
}

/// Loads every run the arguments name, each once.
pub fn load_side(which: &str, args: &[String], results: &Path) -> Result<Side> {
    let mut runs: Vec<LoadedRun> = Vec::new();
    for arg in args {
        for path in resolve(arg, results).with_context(|| format!("{which} side"))? {
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
    fn unknown_names_explain_what_was_expected() {
        let dir = tempfile::tempdir().unwrap();
        let err = format!("{:#}", resolve("nightly", dir.path()).unwrap_err());
        assert!(
            err.contains("'nightly'") && err.contains("baseline list"),
            "{err}"
        );
    }

    #[test]
    fn an_empty_directory_is_not_a_run() {
        let dir = tempfile::tempdir().unwrap();
        let err = format!(
            "{:#}",
            resolve(&dir.path().to_string_lossy(), dir.path()).unwrap_err()
        );
        assert!(err.contains("holds no run"), "{err}");
    }

    #[test]
    fn runs_are_found_one_or_two_levels_down() {
        let dir = tempfile::tempdir().unwrap();
        for rel in [
            "a/run.json",
            "runs/b/run.json",
            "runs/c/run.json",
            "x/y/z/run.json",
        ] {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "{}").unwrap();
        }
        let found = resolve(&dir.path().to_string_lossy(), dir.path()).unwrap();
        let rel: Vec<String> = found
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(rel, ["a/run.json", "runs/b/run.json", "runs/c/run.json"]);
    }
}
