//! Presenting results: the terminal table, the anatomy of a round trip, charts (SVG), and the
//! exports written into a run directory (summary.md, summary.csv, report.html, plots/*.svg).
//! Everything here reads a run directory (run.json and its histogram files) and nothing else, so
//! `loopbench report` can (re)generate the report of any run.

mod about;
pub mod anatomy;
pub mod data;
#[cfg(feature = "report")]
pub mod export;
#[cfg(feature = "report")]
mod generate;
pub mod kernel;
#[cfg(feature = "report")]
mod model;
#[cfg(feature = "report")]
pub mod plots;
pub mod service;
pub mod stage_table;
pub mod table;
pub mod terminal;
pub mod trust;

#[cfg(test)]
pub mod fixture;

pub use about::{case_notes, run_line, run_notes};
#[cfg(feature = "report")]
pub use generate::generate;
#[cfg(feature = "report")]
pub use model::Report;
#[cfg(feature = "report")]
pub use plots::PLOTS_DIR;
