//! `report.md`: the study report as GitHub-flavoured markdown.

use std::fmt::Write as _;

use anyhow::Result;

use super::model::{METHOD, SETTING_HEADER, StudyReport, VARIANT_HEADER, VERDICTS};
use super::verdicts::VERDICT_HEADER;
use crate::report::export::Exporter;
use crate::report::export::markdown::md_table;

/// The markdown export of a study.
pub struct Markdown;

/// The file name.
pub const FILE_NAME: &str = "report.md";

impl Exporter<StudyReport> for Markdown {
    fn file_name(&self) -> &'static str {
        FILE_NAME
    }

    fn render(&self, r: &StudyReport) -> Result<String> {
        let mut out = format!("# {}\n\n{}\n\n{METHOD}\n\n", r.title, r.overview);
        if !r.verdicts.is_empty() {
            let _ = write!(out, "## Verdicts\n\n{VERDICTS}\n\n");
        }
        for v in &r.verdicts {
            let _ = write!(
                out,
                "### {} — {}\n\n{}\n",
                v.case,
                v.figure.name(),
                md_table(&VERDICT_HEADER, &v.rows)
            );
            for s in &v.sentences {
                let _ = writeln!(out, "- {s}");
            }
            out.push('\n');
        }
        for c in &r.curves {
            let _ = write!(
                out,
                "## Sweep: {title}\n\n![{title}](plots/{})\n\n{}\n{}\n\n",
                c.chart_file,
                md_table(&c.header(), &c.rows),
                c.finding,
                title = c.title,
            );
        }
        for f in &r.figures {
            let rows: Vec<Vec<String>> = f.rows.iter().map(|v| v.cells()).collect();
            let _ = write!(
                out,
                "## {title}\n\n![{title}](plots/{})\n\n{}\n",
                f.chart_file,
                md_table(&VARIANT_HEADER, &rows),
                title = f.title,
            );
        }
        let _ = write!(
            out,
            "## Settings as read back\n\n{}\n## Host\n\n",
            md_table(&SETTING_HEADER, &r.settings)
        );
        for p in &r.host {
            let _ = write!(out, "{p}\n\n");
        }
        if !r.errors.is_empty() {
            out.push_str("## Errors\n\n");
            for e in &r.errors {
                let _ = write!(out, "{e}\n\n");
            }
        }
        Ok(out)
    }
}
