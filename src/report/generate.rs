//! Writing a run's report: charts and every export, computed once (feature `report`).

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::data::RunData;
use super::export::{self, write_all};
use super::model::Report;
use super::plots::PLOTS_DIR;
use crate::store::{write_atomic, write_error};

/// Writes the report of the run in `dir`: `plots/*.svg` (stale charts removed) and every
/// export, each atomically. Returns the paths written, report.html first.
pub fn generate(dir: &Path) -> Result<Vec<PathBuf>> {
    let report = Report::new(RunData::load(dir)?)?;
    let plots_dir = dir.join(PLOTS_DIR);
    std::fs::create_dir_all(&plots_dir).map_err(|e| write_error(&plots_dir, e))?;
    if let Ok(entries) = std::fs::read_dir(&plots_dir) {
        for e in entries.flatten() {
            if e.path().extension().is_some_and(|x| x == "svg") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    for p in &report.plots.plots {
        write_atomic(&plots_dir.join(&p.file), p.svg.as_bytes())?;
    }
    let mut written = write_all(dir, &report, &export::exporters())?;
    written.sort_by_key(|p| !p.ends_with(export::html::FILE_NAME));
    written.push(plots_dir);
    Ok(written)
}
