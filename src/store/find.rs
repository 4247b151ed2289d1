//! Finding runs in a results directory: what `RUN` means on the command line (a run directory,
//! a run.json, a run id, or `latest`), and the list of stored runs.

use std::path::{Path, PathBuf};

use anyhow::Result;

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
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(runs_dir(results))
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// The newest run under `results/runs` that has a run.json.
pub fn latest_run(results: &Path) -> Option<PathBuf> {
    run_dirs(results)
        .into_iter()
        .rev()
        .find(|d| d.join("run.json").is_file())
}

/// Resolves `what` to a run directory: an existing run directory or run.json path, a run id
/// under `results/runs`, or `latest`.
pub fn resolve_run(what: &str, results: &Path) -> Result<PathBuf> {
    let path = Path::new(what);
    if path.is_dir() && path.join("run.json").is_file() {
        return Ok(path.to_path_buf());
    }
    if path.is_file() {
        return Ok(path.parent().unwrap_or(Path::new(".")).to_path_buf());
    }
    let runs = runs_dir(results);
    if what == LATEST {
        return latest_run(results).ok_or_else(|| {
            UsageError(format!(
                "no runs in {} yet; measure one with `loopbench suite` or `loopbench run`, or \
                     point --output at another results directory",
                runs.display()
            ))
            .into()
        });
    }
    let by_id = runs.join(what);
    if by_id.join("run.json").is_file() {
        return Ok(by_id);
    }
    Err(UsageError(format!(
        "no run '{what}': it is neither a run directory, a run.json, nor a run id in {}; \
         `loopbench list` shows the runs there ({LATEST} names the newest)",
        runs.display()
    ))
    .into())
}

/// Loads the run that `what` names (see [`resolve_run`]), with its directory.
pub fn load(what: &str, results: &Path) -> Result<(PathBuf, RunRecord)> {
    let dir = resolve_run(what, results)?;
    let record = load_run(&dir)?;
    Ok((dir, record))
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
    fn runs_resolve_by_directory_file_id_and_latest() {
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
        assert_eq!(
            resolve_run(LATEST, results).unwrap(),
            new,
            "a directory without run.json is not a run"
        );
        assert_eq!(run_dirs(results).len(), 3);
    }

    #[test]
    fn missing_runs_are_usage_errors_that_say_what_to_do() {
        let tmp = tempfile::tempdir().unwrap();
        let err = resolve_run("nope", tmp.path()).unwrap_err();
        assert!(crate::error::is_usage_error(&err));
        assert!(format!("{err:#}").contains("loopbench list"), "{err:#}");
        let err = resolve_run(LATEST, tmp.path()).unwrap_err();
        assert!(format!("{err:#}").contains("no runs in"), "{err:#}");
    }
}
