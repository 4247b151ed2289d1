//! A run as terminal text (`loopbench show`, the end of `loopbench suite`): what it was, the
//! cases' table, the anatomy and the notes.

use std::fmt::Write as _;

use super::about::{run_line, run_notes};
use super::anatomy::{EXPLANATION, anatomy, notes as anatomy_notes, table as anatomy_table};
use super::kernel::{LEGEND as KERNEL_LEGEND, kernel_tables, profile_table};
use super::stage_table;
use super::table::render;
use crate::store::record::RunRecord;
use crate::text::align;

/// A run as text: what it was, the table, the anatomy and the notes.
pub fn run_text(r: &RunRecord) -> String {
    let mut out = format!("run {}: {}\n\n{}", r.run_id, run_line(r), render(r));
    if let Some((header, rows)) = stage_table::overview(r) {
        let _ = write!(
            out,
            "\n{}\n{}{}\n",
            stage_table::TITLE,
            align(&header, &rows),
            stage_table::LEGEND
        );
        for c in &r.cases {
            if let Some(line) = stage_table::coverage(c) {
                let _ = writeln!(out, "{}: {line}", c.case_id);
            }
        }
    }
    if let Ok(a) = anatomy(r) {
        let (header, rows) = anatomy_table(&a);
        let _ = write!(
            out,
            "\nloopback anatomy of a {} B round trip\n{}{EXPLANATION}\n",
            a.size,
            align(&header, &rows)
        );
        for n in anatomy_notes(&a) {
            let _ = writeln!(out, "{n}");
        }
    }
    let traced = kernel_tables(r);
    for t in &traced {
        let _ = write!(
            out,
            "\nkernel stages of {} (--trace)\n{}",
            t.case,
            align(&t.header, &t.rows)
        );
        for n in &t.notes {
            let _ = writeln!(out, "{n}");
        }
    }
    if !traced.is_empty() {
        let _ = writeln!(out, "{KERNEL_LEGEND}");
    }
    for t in super::service::service_tables(r) {
        let _ = writeln!(out, "\nagainst the service: {}", t.case);
        if !t.rows.is_empty() {
            out.push_str(&align(&t.header, &t.rows));
        }
        for l in &t.lines {
            let _ = writeln!(out, "{l}");
        }
    }
    if let Some((header, rows)) = profile_table(r) {
        let _ = write!(
            out,
            "\nwhere the workers' CPUs went (--profile, all sides)\n{}",
            align(&header, &rows)
        );
    }
    for n in run_notes(r) {
        let _ = writeln!(out, "note: {n}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn a_stamped_run_shows_its_stage_table_and_each_cases_coverage() {
        let text = run_text(&fixture::stamped_run().record);
        let at = text.find(stage_table::TITLE).expect("the stage table");
        let row = text[at..]
            .lines()
            .find(|l| l.starts_with("tcp4-rr-blocking-cross-core-64B-stages "))
            .unwrap();
        assert!(
            row.contains("4.30 (43%)") && row.ends_with("100.0%"),
            "{row}"
        );
        assert!(text.contains(
            "tcp4-rr-blocking-cross-core-64B-stages: stamped round trips: 990; at the median round trip"
        ));
        let plain = run_text(&fixture::anatomy_run().record);
        assert!(!plain.contains(stage_table::TITLE));
    }
}
