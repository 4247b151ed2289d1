//! Saved baselines: `results/baselines/<name>/` holds copies of one or more run directories
//! (`<name>/<run-id>/run.json`, with their histogram files) and a `baseline.json` manifest.
//! `loopbench compare main NEW` finds them by name.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::{load_run, sync_dir, write_json};
use crate::error::UsageError;

/// The manifest file of a baseline.
pub const MANIFEST: &str = "baseline.json";

/// Version of the `baseline.json` layout (manifests written before it had one read as 1).
pub const SCHEMA_VERSION: u32 = 1;

fn first_version() -> u32 {
    1
}

/// What `baseline.json` records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BaselineInfo {
    /// Layout version ([`SCHEMA_VERSION`]).
    #[serde(default = "first_version")]
    pub schema_version: u32,
    /// The baseline's name.
    pub name: String,
    /// RFC 3339 time it was saved.
    pub saved_at: String,
    /// The runs it holds.
    pub runs: Vec<BaselineRun>,
}

/// What `loopbench baseline list --json` prints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BaselineList {
    /// Layout version ([`SCHEMA_VERSION`], shared with `baseline.json`).
    pub schema_version: u32,
    /// Every saved baseline's manifest, by name.
    pub baselines: Vec<BaselineInfo>,
}

/// One run of a baseline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BaselineRun {
    /// The run's id (its directory name inside the baseline).
    pub run_id: String,
    /// Where it was copied from.
    pub source: String,
    /// Cases it holds.
    pub cases: usize,
    /// `git describe` of the build that measured it.
    pub git_revision: Option<String>,
}

/// `results/baselines`.
pub fn baselines_dir(results: &Path) -> PathBuf {
    results.join("baselines")
}

/// Longest baseline name: it names a directory, and file systems allow 255 bytes.
pub const MAX_NAME_LEN: usize = 100;

/// Checks a baseline name: letters, digits, `.`, `_`, `-`, not starting with a dot, at most
/// [`MAX_NAME_LEN`] characters.
pub fn check_name(name: &str) -> Result<(), UsageError> {
    if name.len() > MAX_NAME_LEN {
        return Err(UsageError(format!(
            "a baseline name of {} characters is too long: it names a directory; use at most \
             {MAX_NAME_LEN} (e.g. main, v0.3.1)",
            name.len()
        )));
    }
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(UsageError(format!(
            "'{name}' is not a usable baseline name; use letters, digits, '.', '_' and '-' (e.g. main, v0.3.1)"
        )))
    }
}

/// The directory of baseline `name`, if it exists.
pub fn find(results: &Path, name: &str) -> Option<PathBuf> {
    check_name(name).ok()?;
    let dir = baselines_dir(results).join(name);
    dir.join(MANIFEST).is_file().then_some(dir)
}

/// The run directory of `path` (a run directory or its run.json).
fn run_dir(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().unwrap_or(Path::new(".")).to_path_buf()
    }
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .and_then(|_| std::fs::File::open(&target)?.sync_all())
                .with_context(|| {
                    format!(
                        "cannot copy {} to {}",
                        entry.path().display(),
                        target.display()
                    )
                })?;
        }
    }
    // The copied entries are durable only once their directory is.
    sync_dir(to)
}

/// Saves `runs` (run directories or run.json files, each checked with [`load_run`]) as baseline
/// `name`. An existing baseline of that name is replaced only with `replace`. The new baseline
/// appears whole or not at all (it is assembled in a temporary directory and renamed).
pub fn save(results: &Path, name: &str, runs: &[PathBuf], replace: bool) -> Result<BaselineInfo> {
    check_name(name)?;
    let root = baselines_dir(results);
    let dest = root.join(name);
    if dest.exists() && !replace {
        return Err(UsageError(format!(
            "baseline '{name}' already exists ({}); pass --force to replace it",
            dest.display()
        ))
        .into());
    }
    std::fs::create_dir_all(&root).map_err(|e| {
        UsageError(format!(
            "cannot create {}: {e}; choose a writable --output directory",
            root.display()
        ))
    })?;
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-baseline-")
        .tempdir_in(&root)
        .with_context(|| format!("cannot create a temporary directory in {}", root.display()))?;
    let mut info = BaselineInfo {
        schema_version: SCHEMA_VERSION,
        name: name.to_string(),
        saved_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        runs: Vec::new(),
    };
    for path in runs {
        let record = load_run(path)?;
        if info.runs.iter().any(|r| r.run_id == record.run_id) {
            continue;
        }
        copy_dir(&run_dir(path), &tmp.path().join(&record.run_id))?;
        info.runs.push(BaselineRun {
            run_id: record.run_id.clone(),
            source: path.display().to_string(),
            cases: record.cases.len(),
            git_revision: record.tool.git_revision.clone(),
        });
    }
    write_json(&tmp.path().join(MANIFEST), &info)?;
    // The staged copy stays a TempDir until it is renamed, so any failure removes it.
    if dest.exists() {
        let old = root.join(format!(".old-{name}-{}", std::process::id()));
        std::fs::rename(&dest, &old)
            .with_context(|| format!("cannot move the old baseline {}", dest.display()))?;
        if let Err(e) = std::fs::rename(tmp.path(), &dest) {
            let _ = std::fs::rename(&old, &dest);
            return Err(e).with_context(|| format!("cannot rename into {}", dest.display()));
        }
        let _ = std::fs::remove_dir_all(old);
    } else {
        std::fs::rename(tmp.path(), &dest)
            .with_context(|| format!("cannot rename into {}", dest.display()))?;
    }
    let _ = tmp.keep();
    sync_dir(&root)?;
    Ok(info)
}

/// Every saved baseline, by name.
pub fn list(results: &Path) -> Result<Vec<BaselineInfo>> {
    let root = baselines_dir(results);
    let Ok(entries) = std::fs::read_dir(&root) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let manifest = entry.path().join(MANIFEST);
        if entry.file_name().to_string_lossy().starts_with('.') || !manifest.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&manifest)
            .with_context(|| format!("cannot read {}", manifest.display()))?;
        let info: BaselineInfo = serde_json::from_str(&text).map_err(|e| {
            UsageError(format!(
                "{} is not a baseline manifest: {e}",
                manifest.display()
            ))
        })?;
        out.push(info);
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_words() {
        for good in ["main", "v0.3.1", "pr-12_a"] {
            check_name(good).unwrap();
        }
        for bad in ["", ".hidden", "a/b", "x y", "../up"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        let long = "b".repeat(300);
        let err = check_name(&long).unwrap_err().to_string();
        assert!(err.contains("too long"), "{err}");
        check_name(&"b".repeat(MAX_NAME_LEN)).unwrap();
    }

    #[test]
    fn an_empty_results_directory_has_no_baselines() {
        let dir = tempfile::tempdir().unwrap();
        assert!(list(dir.path()).unwrap().is_empty());
        assert!(find(dir.path(), "main").is_none());
    }

    #[test]
    fn saving_a_broken_run_fails_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("runs/x");
        std::fs::create_dir_all(&run).unwrap();
        std::fs::write(run.join("run.json"), "{ broken").unwrap();
        let err = save(dir.path(), "main", &[run], false).unwrap_err();
        assert!(format!("{err:#}").contains("not valid JSON"), "{err:#}");
        assert!(find(dir.path(), "main").is_none());
        let leftovers = std::fs::read_dir(baselines_dir(dir.path()))
            .unwrap()
            .count();
        assert_eq!(leftovers, 0, "the temporary directory is removed");
    }
}
