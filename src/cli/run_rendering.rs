//! A stored run in each output format: the table the command makes, run.json as JSON, and the
//! report's summary.md and summary.csv (built once, from the run directory) as markdown and CSV.
//! Shared by the commands that measure (`run`, `client`, `suite`) and by `show`.

use std::path::Path;

use anyhow::Result;

use super::format_args::Rendering;
use crate::report::Report;
use crate::report::data::RunData;
use crate::report::export::Exporter;
use crate::report::export::csv::Csv;
use crate::report::export::markdown::Markdown;
use crate::store::record::RunRecord;

/// One stored run, rendered on demand.
pub struct RunRendering<'a> {
    dir: Option<&'a Path>,
    record: &'a RunRecord,
    report: Option<Report>,
}

impl<'a> RunRendering<'a> {
    /// The run `record`, stored in `dir` (`None`: not stored, so no markdown or CSV).
    pub fn new(dir: Option<&'a Path>, record: &'a RunRecord) -> RunRendering<'a> {
        RunRendering {
            dir,
            record,
            report: None,
        }
    }

    /// The run in `rendering`; `table` makes the table.
    pub fn render(
        &mut self,
        rendering: Rendering,
        table: &dyn Fn(&RunRecord) -> String,
    ) -> Result<String> {
        let exporter: &dyn Exporter<Report> = match rendering {
            Rendering::Table => return Ok(table(self.record)),
            Rendering::Json => return Ok(serde_json::to_string_pretty(self.record)? + "\n"),
            Rendering::Markdown => &Markdown,
            Rendering::Csv => &Csv,
        };
        if self.report.is_none() {
            let Some(dir) = self.dir else {
                anyhow::bail!("the run was not stored, so it has no markdown or CSV rendering");
            };
            self.report = Some(Report::new(RunData::load(dir)?)?);
        }
        exporter.render(self.report.as_ref().expect("just built"))
    }
}
