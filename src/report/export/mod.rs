//! Exports of a report, one file per format behind one trait (as hyperfine's `export/`):
//! markdown tables to paste into an issue, CSV for spreadsheets and scripts, one self-contained
//! HTML page. run.json itself is the JSON export.

pub mod csv;
pub mod html;
pub mod markdown;

use anyhow::Result;

use super::Report;
use crate::store::record::{RunRecord, run_state, short_time};

/// One output format.
pub trait Exporter {
    /// The file it writes in the run directory.
    fn file_name(&self) -> &'static str;
    /// The file's contents.
    fn render(&self, report: &Report) -> Result<String>;
}

/// Every export, in the order they are written.
pub fn exporters() -> Vec<Box<dyn Exporter>> {
    vec![
        Box::new(markdown::Markdown),
        Box::new(csv::Csv),
        Box::new(html::Html),
    ]
}

/// One line about the run: suite or label, start, completeness, tool, machine.
pub fn run_line(r: &RunRecord) -> String {
    let e = &r.environment;
    let what = match (&r.suite, &r.label) {
        (Some(s), Some(l)) => format!("suite {s} ({l})"),
        (Some(s), None) => format!("suite {s}"),
        (None, Some(l)) => l.clone(),
        (None, None) => "loopbench run".into(),
    };
    format!(
        "{what} · {} · {} · {} cases · {} {} · {}, {} CPUs, kernel {}",
        short_time(&r.started_at),
        run_state(r.complete, r.interrupted),
        r.cases.len(),
        r.tool.name,
        r.tool.git_revision.as_deref().unwrap_or(&r.tool.version),
        if e.cpu_model.is_empty() {
            "unknown CPU"
        } else {
            &e.cpu_model
        },
        e.online_cpus,
        e.kernel_release,
    )
}
