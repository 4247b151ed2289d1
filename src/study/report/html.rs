//! `report.html`: the study report as one page, the charts linked from `plots/`.

use std::fmt::Write as _;

use anyhow::Result;

use super::model::{METHOD, SETTING_HEADER, StudyReport, VARIANT_HEADER, VERDICTS};
use super::verdicts::VERDICT_HEADER;
use crate::report::export::Exporter;
use crate::report::export::html::{esc, html_table};

/// The HTML export of a study.
pub struct Html;

/// The file name.
pub const FILE_NAME: &str = "report.html";

const HEAD: &str = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>loopbench study</title>\
    <style>body{font-family:sans-serif;max-width:70em;margin:auto}table{border-collapse:collapse;margin:1em 0}\
    td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}td:first-child{text-align:left}</style>\
    </head><body>\n";

impl Exporter<StudyReport> for Html {
    fn file_name(&self) -> &'static str {
        FILE_NAME
    }

    fn render(&self, r: &StudyReport) -> Result<String> {
        let mut out = format!(
            "{HEAD}<h1>{}</h1>\n<p>{}</p>\n<p>{}</p>\n",
            esc(&r.title),
            esc(&r.overview),
            esc(METHOD)
        );
        if !r.verdicts.is_empty() {
            let _ = write!(out, "<h2>Verdicts</h2>\n<p>{}</p>\n", esc(VERDICTS));
        }
        for v in &r.verdicts {
            let _ = write!(
                out,
                "<h3>{} — {}</h3>\n{}<ul>\n",
                esc(&v.case.to_string()),
                esc(v.figure.name()),
                html_table(&VERDICT_HEADER, &v.rows)
            );
            for s in &v.sentences {
                let _ = writeln!(out, "<li>{}</li>", esc(s));
            }
            out.push_str("</ul>\n");
        }
        for c in &r.curves {
            let _ = write!(
                out,
                "<h2>Sweep: {title}</h2>\n<img src=\"plots/{}\" alt=\"{title}\">\n{}<p>{}</p>\n",
                esc(&c.chart_file),
                html_table(&c.header(), &c.rows),
                esc(&c.finding),
                title = esc(&c.title),
            );
        }
        for f in &r.figures {
            let rows: Vec<Vec<String>> = f.rows.iter().map(|v| v.cells()).collect();
            let _ = write!(
                out,
                "<h2>{title}</h2>\n<img src=\"plots/{}\" alt=\"{title}\">\n{}",
                esc(&f.chart_file),
                html_table(&VARIANT_HEADER, &rows),
                title = esc(&f.title),
            );
        }
        let _ = write!(
            out,
            "<h2>Settings as read back</h2>\n{}<h2>Host</h2>\n",
            html_table(&SETTING_HEADER, &r.settings)
        );
        for p in &r.host {
            let _ = writeln!(out, "<p>{}</p>", esc(p));
        }
        if !r.errors.is_empty() {
            out.push_str("<h2>Errors</h2>\n");
            for e in &r.errors {
                let _ = writeln!(out, "<p>{}</p>", esc(e));
            }
        }
        out.push_str("</body></html>\n");
        Ok(out)
    }
}
