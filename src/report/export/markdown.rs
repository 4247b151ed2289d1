//! `summary.md`: the run's tables as GitHub-flavoured markdown, ready to paste into an issue.

use std::fmt::Write as _;

use anyhow::Result;

use super::exporter::Exporter;
use crate::report::about::run_line;
use crate::report::anatomy::{EXPLANATION, notes, table};
use crate::report::kernel::{LEGEND as KERNEL_LEGEND, kernel_tables, profile_table};
use crate::report::model::Report;
use crate::report::stage_table;
use crate::report::table as cases;

/// The markdown export.
pub struct Markdown;

/// The file name.
pub const FILE_NAME: &str = "summary.md";

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// A markdown table: the first column left-aligned, the others right-aligned.
pub fn md_table(header: &[impl AsRef<str>], rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        format!("| {} |\n", cells.map(cell).collect::<Vec<_>>().join(" | "))
    };
    out.push_str(&line(&mut header.iter().map(AsRef::as_ref)));
    let rule: Vec<String> = (0..header.len())
        .map(|i| if i == 0 { ":--".into() } else { "--:".into() })
        .collect();
    out.push_str(&format!("|{}|\n", rule.join("|")));
    for r in rows {
        out.push_str(&line(&mut r.iter().map(String::as_str)));
    }
    out
}

impl Exporter<Report> for Markdown {
    fn file_name(&self) -> &'static str {
        FILE_NAME
    }

    fn render(&self, report: &Report) -> Result<String> {
        let r = &report.data.record;
        let mut out = format!("# loopbench run {}\n\n{}\n\n", r.run_id, run_line(r));
        if let Some((header, rows)) = stage_table::overview(r) {
            let _ = write!(
                out,
                "## Stages of a round trip: {}\n\n{}\n{}.\n\n",
                stage_table::TITLE,
                md_table(&header, &rows),
                stage_table::LEGEND
            );
            for c in &r.cases {
                if let Some(line) = stage_table::coverage(c) {
                    let _ = writeln!(out, "- {}: {line}.", c.case_id);
                }
            }
            out.push('\n');
        }
        if let Ok(a) = &report.anatomy {
            let (header, rows) = table(a);
            let _ = write!(
                out,
                "## Loopback anatomy of a {} B round trip\n\n{}\n",
                a.size,
                md_table(&header, &rows)
            );
            let _ = writeln!(out, "{EXPLANATION}.\n");
            for n in notes(a) {
                let _ = writeln!(out, "{n}.\n");
            }
        }
        let rows: Vec<Vec<String>> = r.cases.iter().map(cases::row).collect();
        let _ = write!(
            out,
            "## Cases\n\n{}\n{}.\n",
            md_table(cases::HEADER, &rows),
            cases::LEGEND
        );
        let traced = kernel_tables(r);
        for t in &traced {
            let _ = write!(
                out,
                "\n## Kernel stages of {} (--trace)\n\n{}\n",
                t.case,
                md_table(&t.header, &t.rows)
            );
            for n in &t.notes {
                let _ = writeln!(out, "- {n}");
            }
        }
        if !traced.is_empty() {
            let _ = writeln!(out, "\n{KERNEL_LEGEND}.");
        }
        for t in crate::report::service::service_tables(r) {
            let _ = writeln!(out, "\n## Against the service: {}\n", t.case);
            if !t.rows.is_empty() {
                let _ = writeln!(out, "{}", md_table(&t.header, &t.rows));
            }
            for l in &t.lines {
                let _ = writeln!(out, "- {l}");
            }
        }
        if let Some((header, rows)) = profile_table(r) {
            let _ = write!(
                out,
                "\n## Where the workers' CPUs went (--profile, all sides)\n\n{}",
                md_table(&header, &rows)
            );
        }
        let notes = report.notes();
        if !notes.is_empty() {
            out.push_str("\n## Notes\n\n");
            for n in notes {
                let _ = writeln!(out, "- {n}");
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;
    use crate::spec::EngineKind;

    /// The anatomy set with blocking waits, one case failed after one iteration.
    fn report() -> Report {
        let mut data = fixture::anatomy_run();
        data.record
            .cases
            .retain(|c| c.spec.engine == EngineKind::Blocking);
        data.histograms.truncate(data.record.cases.len());
        let failed = &mut data.record.cases[3];
        failed
            .errors
            .push("iteration 2: peer made no progress for 5s".into());
        failed.complete = false;
        Report::new(data).unwrap()
    }

    #[test]
    fn markdown_summary() {
        insta::assert_snapshot!(Markdown.render(&report()).unwrap());
    }

    #[test]
    fn markdown_summary_with_stages() {
        let report = Report::new(fixture::stamped_run()).unwrap();
        insta::assert_snapshot!(Markdown.render(&report).unwrap());
    }

    #[test]
    fn pipes_in_cells_are_escaped() {
        let t = md_table(&["a|b", "c"], &[vec!["x|y".into(), "1".into()]]);
        assert_eq!(t, "| a\\|b | c |\n|:--|--:|\n| x\\|y | 1 |\n");
    }
}
