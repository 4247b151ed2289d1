//! Finding runs in a results directory: what `RUN` means on every command line, and the list of
//! stored runs.
//!
//! One resolver ([`resolve_runs`]) for every command that takes a run: a run directory, its
//! run.json, a directory holding runs (one or two levels down, as a baseline or an `ab` session
//! does), `latest`, a run id under `results/runs`, a saved baseline's name, or a unique prefix of
//! a run id. When nothing matches, the one error lists every kind it tried and what it found.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::baseline;
use super::load_run;
use super::record::RunRecord;
use crate::error::UsageError;

/// The word that names the newest run.
pub const LATEST: &str = "latest";

/// The directory holding the runs of a results directory (`results/runs`).
pub fn runs_dir(results: &Path) -> PathBuf {
    results.join("runs")
}

/// The run directories under `results/runs`, oldest first (run ids start with their UTC time,
/// so their names sort by age).
pub fn run_dirs(results: &Path) -> Vec<PathBuf> {
    let mut dirs = subdirs(&runs_dir(results));
    dirs.sort();
    dirs
}

/// The directories directly in `dir` (none when it cannot be read).
fn subdirs(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default()
}

/// The newest run under `results/runs` that has a run.json.
pub fn latest_run(results: &Path) -> Option<PathBuf> {
    run_dirs(results)
        .into_iter()
        .rev()
        .find(|d| d.join("run.json").is_file())
}

/// The run.json files below `dir` at depth one or two (a baseline, an `ab` session, a results
/// directory), sorted.
fn runs_below(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for child in subdirs(dir) {
        if child.join("run.json").is_file() {
            found.push(child.join("run.json"));
        } else {
            found.extend(
                subdirs(&child)
                    .into_iter()
                    .map(|g| g.join("run.json"))
                    .filter(|f| f.is_file()),
            );
        }
    }
    found.sort();
    found
}

/// The run files (run.json, or the file given) `what` names, trying in this order: `latest`; an existing path (a
/// run.json, a run directory, a directory holding runs); a run id under `results/runs`; a saved
/// baseline in `results/baselines`; a unique prefix of a run id. The error says what each try
/// found.
pub fn resolve_runs(what: &str, results: &Path) -> Result<Vec<PathBuf>> {
    let runs = runs_dir(results);
    if what == LATEST {
        return latest_run(results)
            .map(|d| vec![d.join("run.json")])
            .ok_or_else(|| {
                UsageError(format!(
                    "no runs in {} yet; measure one with `loopbench suite` or `loopbench run`, or \
                 point --output (or LOOPBENCH_OUTPUT) at another results directory",
                    runs.display()
                ))
                .into()
            });
    }
    let path = Path::new(what);
    let mut tried = Vec::new();
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    } else if path.is_dir() {
        if path.join("run.json").is_file() {
            return Ok(vec![path.join("run.json")]);
        }
        let below = runs_below(path);
        if !below.is_empty() {
            return Ok(below);
        }
        tried.push(format!(
            "the directory {what} holds no run.json (in it, or one or two levels down)"
        ));
    } else {
        tried.push(format!("no file or directory {what}"));
    }
    let by_id = runs.join(what);
    if !what.contains('/') && by_id.join("run.json").is_file() {
        return Ok(vec![by_id.join("run.json")]);
    }
    tried.push(format!("no run id {what} in {}", runs.display()));
    if let Some(dir) = baseline::find(results, what) {
        let below = runs_below(&dir);
        if below.is_empty() {
            return Err(UsageError(format!(
                "baseline '{what}' ({}) holds no run",
                dir.display()
            ))
            .into());
        }
        return Ok(below);
    }
    let names: Vec<String> = baseline::list(results)
        .unwrap_or_default()
        .into_iter()
        .map(|b| b.name)
        .collect();
    tried.push(format!(
        "no baseline {what} in {} ({})",
        baseline::baselines_dir(results).display(),
        if names.is_empty() {
            "it holds none".to_string()
        } else {
            format!("known: {}", names.join(", "))
        }
    ));
    let all = run_dirs(results);
    let id = |d: &PathBuf| {
        d.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let matching: Vec<&PathBuf> = all
        .iter()
        .filter(|d| !what.is_empty() && id(d).starts_with(what) && d.join("run.json").is_file())
        .collect();
    match matching.as_slice() {
        [one] => return Ok(vec![one.join("run.json")]),
        [] => tried.push(format!(
            "no run id in {} starts with {what} ({} runs there)",
            runs.display(),
            all.len()
        )),
        many => {
            return Err(UsageError(format!(
                "'{what}' is the start of {} run ids: {}; give more of the id",
                many.len(),
                many.iter().map(|d| id(d)).collect::<Vec<_>>().join(", ")
            ))
            .into());
        }
    }
    Err(UsageError(format!(
        "no run '{what}'; tried: {}. `loopbench list` shows the runs, `loopbench baseline list` \
         the baselines ({LATEST} names the newest run; --output or LOOPBENCH_OUTPUT picks the \
         results directory)",
        tried.join("; ")
    ))
    .into())
}

/// The run file of the one run `what` names (see [`resolve_runs`]); names of several runs (a
/// baseline of two runs, a directory of runs) are an error that lists them.
fn resolve_one(what: &str, results: &Path) -> Result<PathBuf> {
    let mut files = resolve_runs(what, results)?;
    if files.len() > 1 {
        return Err(UsageError(format!(
            "'{what}' names {} runs ({}); give one of them",
            files.len(),
            files
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into());
    }
    Ok(files.remove(0))
}

/// The directory of the one run `what` names (see [`resolve_runs`]).
pub fn resolve_run(what: &str, results: &Path) -> Result<PathBuf> {
    let file = resolve_one(what, results)?;
    Ok(file.parent().unwrap_or(Path::new(".")).to_path_buf())
}

/// Loads the one run that `what` names (see [`resolve_runs`]), with its directory.
pub fn load(what: &str, results: &Path) -> Result<(PathBuf, RunRecord)> {
    let file = resolve_one(what, results)?;
    let record = load_run(&file)?;
    Ok((
        file.parent().unwrap_or(Path::new(".")).to_path_buf(),
        record,
    ))
}

/// Version of `loopbench list --json`.
pub const LIST_SCHEMA_VERSION: u32 = 1;

/// What `loopbench list --json` prints: the runs of a results directory, oldest first.
#[derive(Clone, Debug, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunList {
    /// Layout version ([`LIST_SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Every run directory under `results/runs`, readable or not.
    pub runs: Vec<RunEntry>,
}

/// One run as `loopbench list` shows it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunEntry {
    /// The run id (its directory name).
    pub run_id: String,
    /// Its directory.
    pub dir: String,
    /// RFC 3339 start time.
    pub started_at: Option<String>,
    /// The suite that ran it.
    pub suite: Option<String>,
    /// Its `--label`.
    pub label: Option<String>,
    /// Cases in it.
    pub cases: usize,
    /// Cases with an error.
    pub failed: usize,
    /// True when every slot ran.
    pub complete: bool,
    /// True when it was interrupted.
    pub interrupted: bool,
    /// True when its report.html exists.
    pub report: bool,
    /// Why run.json could not be read, when it could not.
    pub unreadable: Option<String>,
}

impl RunEntry {
    /// The entry of the run in `dir`; `report` is whether its report exists.
    pub fn read(dir: &Path, report: bool) -> RunEntry {
        let mut e = RunEntry {
            run_id: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            dir: dir.display().to_string(),
            report,
            ..RunEntry::default()
        };
        match load_run(dir) {
            Ok(r) => {
                e.started_at = Some(r.started_at.clone());
                e.suite = r.suite;
                e.label = r.label;
                e.cases = r.cases.len();
                e.failed = r.cases.iter().filter(|c| !c.errors.is_empty()).count();
                e.complete = r.complete;
                e.interrupted = r.interrupted;
            }
            Err(err) => e.unreadable = Some(format!("{err:#}")),
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_run(results: &Path, id: &str) -> PathBuf {
        let dir = runs_dir(results).join(id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("run.json"), "{}").unwrap();
        dir
    }

    #[test]
    fn runs_resolve_by_directory_file_id_prefix_and_latest() {
        let tmp = tempfile::tempdir().unwrap();
        let results = tmp.path();
        let old = fake_run(results, "20260101T000000Z-aaaa");
        let new = fake_run(results, "20260102T000000Z-0000");
        std::fs::create_dir_all(runs_dir(results).join("20270101T000000Z-empty")).unwrap();
        assert_eq!(resolve_run(old.to_str().unwrap(), results).unwrap(), old);
        assert_eq!(
            resolve_run(old.join("run.json").to_str().unwrap(), results).unwrap(),
            old
        );
        assert_eq!(resolve_run("20260101T000000Z-aaaa", results).unwrap(), old);
        assert_eq!(resolve_run("20260101", results).unwrap(), old, "a prefix");
        assert_eq!(
            resolve_run(LATEST, results).unwrap(),
            new,
            "a directory without run.json is not a run"
        );
        assert_eq!(run_dirs(results).len(), 3);
        let err = format!("{:#}", resolve_run("2026", results).unwrap_err());
        assert!(err.contains("start of 2 run ids"), "{err}");
        assert_eq!(
            resolve_runs(results.to_str().unwrap(), results).unwrap(),
            [old.join("run.json"), new.join("run.json")],
            "a directory of runs names them all"
        );
        let err = format!(
            "{:#}",
            resolve_run(results.to_str().unwrap(), results).unwrap_err()
        );
        assert!(err.contains("names 2 runs"), "{err}");
    }

    #[test]
    fn missing_runs_are_usage_errors_that_say_what_was_tried() {
        let tmp = tempfile::tempdir().unwrap();
        fake_run(tmp.path(), "20260101T000000Z-aaaa");
        let err = resolve_run("nope", tmp.path()).unwrap_err();
        assert!(crate::error::is_usage_error(&err));
        let text = format!("{err:#}");
        for tried in [
            "no file or directory nope",
            "no run id nope",
            "no baseline nope",
            "starts with nope (1 runs there)",
            "loopbench list",
        ] {
            assert!(text.contains(tried), "{tried}: {text}");
        }
        let empty = tempfile::tempdir().unwrap();
        let err = resolve_run(LATEST, empty.path()).unwrap_err();
        assert!(format!("{err:#}").contains("no runs in"), "{err:#}");
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
        let found = resolve_runs(&dir.path().to_string_lossy(), dir.path()).unwrap();
        let rel: Vec<String> = found
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(rel, ["a/run.json", "runs/b/run.json", "runs/c/run.json"]);
    }
}
