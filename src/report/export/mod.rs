//! Exports of a report, one file per format behind one trait (as hyperfine's `export/`):
//! markdown tables to paste into an issue, CSV for spreadsheets and scripts, one self-contained
//! HTML page. run.json itself is the JSON export.

pub mod csv;
mod exporter;
pub mod html;
pub mod markdown;

pub use exporter::{Exporter, write_all};

use super::model::Report;
pub use crate::report::about::run_line;

/// Every export of a run's report, in the order they are written.
pub fn exporters() -> Vec<Box<dyn Exporter<Report>>> {
    vec![
        Box::new(markdown::Markdown),
        Box::new(csv::Csv),
        Box::new(html::Html),
    ]
}
