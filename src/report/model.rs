//! The run report's model: everything a report shows, computed once and handed to every
//! exporter.

use anyhow::Result;

use super::about::run_notes;
use super::anatomy::{self, Anatomy};
use super::data::RunData;
use super::plots::{self, Plots};

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
