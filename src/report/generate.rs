//! Writing a run's report: charts and every export, computed once (feature `report`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::anatomy::{self, Anatomy};
use super::data::RunData;
use super::plots::{self, Plots};
use super::{export, run_notes};
use crate::store::write_atomic;

/// The directory under a run directory that holds the charts.
pub const PLOTS_DIR: &str = "plots";

/// Everything a report shows, computed once and handed to every exporter.
pub struct Report {
    /// The run and its histograms.
    pub data: RunData,
    /// The anatomy of its round trips, or why there is none.
    pub anatomy: Result<Anatomy, String>,
    /// Its charts.
    pub plots: Plots,
}

impl Report {
    /// Computes the anatomy and renders the charts of `data`.
    pub fn new(data: RunData) -> Result<Report> {
        let anatomy = anatomy::anatomy(&data.record);
        let plots = plots::render_all(&data, &anatomy)?;
        Ok(Report {
            data,
            anatomy,
            plots,
        })
    }

    /// Everything the reader should know is missing or was skipped: unreadable files, charts
    /// the run has no data for, failed cases.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = run_notes(&self.data.record);
        notes.extend(self.data.notes.iter().cloned());
        notes.extend(self.plots.notes.iter().cloned());
        notes
    }
}

/// Writes the report of the run in `dir`: `plots/*.svg` (stale charts removed) and every
/// export, each atomically. Returns the paths written, report.html first.
pub fn generate(dir: &Path) -> Result<Vec<PathBuf>> {
    let report = Report::new(RunData::load(dir)?)?;
    let plots_dir = dir.join(PLOTS_DIR);
    std::fs::create_dir_all(&plots_dir)
        .with_context(|| format!("cannot create {}", plots_dir.display()))?;
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
    let mut written = Vec::new();
    for exporter in export::exporters() {
        let path = dir.join(exporter.file_name());
        write_atomic(&path, exporter.render(&report)?.as_bytes())?;
        written.push(path);
    }
    written.sort_by_key(|p| !p.ends_with(export::html::FILE_NAME));
    written.push(plots_dir);
    Ok(written)
}
