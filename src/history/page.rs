//! The HTML page of `history show --html`: self-contained (inline SVG and CSS, no script), the
//! chart of the metric over commits with intervals, then the table.

use std::fmt::Write as _;

use anyhow::Result;

use super::show::ShowReport;
use crate::report::export::html::{STYLE, esc, html_table};
use crate::report::plots::history::render;

/// The page.
pub fn page(report: &ShowReport) -> Result<String> {
    let svg = render(&report.chart())?;
    let title = format!("loopbench history: {} {}", report.case_id, report.metric);
    let newest = report.points.last().expect("a report has points");
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head><body>\n<h1>{t}</h1>\n",
        t = esc(&title)
    );
    let _ = writeln!(
        out,
        "<p class=\"muted\">{} runs on {} (machine {}), oldest first. Each point is a run's figure with the \
         95 % bootstrap interval of the median of its iterations; thick lines are the medians of the \
         segments between change points (E-divisive means); dashed lines mark where a change point starts.</p>",
        report.points.len(),
        esc(&newest.host),
        esc(&newest.fingerprint)
    );
    let _ = writeln!(
        out,
        "<section id=\"trend\"><div class=\"charts\"><figure>{svg}</figure></div></section>"
    );
    let _ = writeln!(
        out,
        "<section id=\"runs\"><h2>Runs</h2>{}</section>",
        html_table(&report.header(), &report.rows())
    );
    out.push_str("</body></html>\n");
    Ok(out)
}
