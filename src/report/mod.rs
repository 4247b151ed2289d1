//! Presenting results: the terminal table, the anatomy of a round trip, charts (SVG), and the
//! exports written into a run directory (summary.md, summary.csv, report.html, plots/*.svg).
//! Everything here reads a run directory (run.json and its histogram files) and nothing else, so
//! `loopbench report` can (re)generate the report of any run.

pub mod anatomy;
pub mod data;
#[cfg(feature = "report")]
pub mod export;
pub mod format;
#[cfg(feature = "report")]
mod generate;
#[cfg(feature = "report")]
pub mod plots;
pub mod table;

#[cfg(test)]
pub mod fixture;

#[cfg(feature = "report")]
pub use generate::{PLOTS_DIR, Report, generate};

use crate::store::record::RunRecord;

/// What a reader must know about a run before its numbers: interrupted, incomplete, failed cases.
pub fn run_notes(r: &RunRecord) -> Vec<String> {
    let mut notes = Vec::new();
    if r.interrupted {
        notes.push("the run was interrupted: only the cases finished before are shown".into());
    } else if !r.complete {
        notes.push("the run is incomplete (it stopped early or is still running)".into());
    }
    for c in r.cases.iter().filter(|c| !c.errors.is_empty()) {
        notes.push(format!("{} failed: {}", c.case_id, c.errors.join("; ")));
    }
    notes
}
