//! Filling a history from what exists already: run directories (one run, or every run.json found
//! under a results directory, a study, or a fleet's collected results) and other history files
//! (merging a per-host history into a shared one). Idempotent: a run already present (same run id
//! from the same machine) is left as it is, so importing the same directory twice adds nothing.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::db::{AddOutcome, History};
use super::from_record::{Provenance, run_figures};
use crate::store::load_run;

/// How deep [`run_files`] looks under a directory: `results/runs/<id>/run.json` is 3 levels,
/// a study's `studies/<id>/runs/<run>/run.json` 5, a fleet's `<host>/results/...` one more.
pub const MAX_DEPTH: usize = 7;

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportCount {
    /// Runs stored.
    pub added: usize,
    /// Runs that were already there.
    pub present: usize,
}

impl ImportCount {
    fn count(&mut self, outcome: AddOutcome) {
        match outcome {
            AddOutcome::Added => self.added += 1,
            AddOutcome::AlreadyPresent => self.present += 1,
        }
    }
}

/// True when `path` is a SQLite file (by its 16-byte header), i.e. another history.
pub fn is_history_file(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == b"SQLite format 3\0"
}

/// Every run.json under `dir` (or `dir` itself when it is a run directory or a run.json), sorted
/// by path; hidden directories are skipped.
pub fn run_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
        let file = dir.join("run.json");
        if file.is_file() {
            out.push(file);
            return;
        }
        if depth == 0 {
            return;
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut subdirs: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        subdirs.sort();
        for sub in subdirs {
            walk(&sub, depth - 1, out);
        }
    }
    if dir.is_file() {
        return vec![dir.to_path_buf()];
    }
    let mut out = Vec::new();
    walk(dir, MAX_DEPTH, &mut out);
    out
}

/// Adds the run in `run` (a directory or its run.json) with `provenance`.
pub fn add_run(history: &mut History, run: &Path, provenance: &Provenance) -> Result<AddOutcome> {
    let record = load_run(run)?;
    let figures = run_figures(&record, provenance);
    history
        .add(&figures)
        .with_context(|| format!("adding {} to the history", run.display()))
}

/// Imports `source`: another history file (merged run by run, with the provenance each run
/// has there) or a directory of runs (each with `provenance`). A run.json that cannot be read is
/// an error naming it; nothing after it is imported, everything before it stays.
pub fn import(
    history: &mut History,
    source: &Path,
    provenance: &Provenance,
) -> Result<ImportCount> {
    let mut count = ImportCount::default();
    if source.is_file() && is_history_file(source) {
        let other = History::open(source)
            .with_context(|| format!("opening {} to merge it", source.display()))?;
        for run in other.run_figures()? {
            count.count(history.add(&run)?);
        }
        return Ok(count);
    }
    let files = run_files(source);
    if files.is_empty() {
        anyhow::bail!(crate::error::UsageError(format!(
            "{} holds no run.json (looked {MAX_DEPTH} directories deep) and is not a history \
             file; give a results directory, a run directory or a history .sqlite file",
            source.display()
        )));
    }
    for file in files {
        count.count(add_run(history, &file, provenance)?);
    }
    Ok(count)
}
