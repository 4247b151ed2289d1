//! A run as terminal text (`loopbench show`, the end of `loopbench suite`): what it was, the
//! cases' table, the anatomy and the notes.

use std::fmt::Write as _;

use super::about::{run_line, run_notes};
use super::anatomy::{EXPLANATION, anatomy, notes as anatomy_notes, table as anatomy_table};
use super::kernel::{LEGEND as KERNEL_LEGEND, kernel_tables, profile_table};
use super::table::render;
use crate::store::record::RunRecord;
use crate::text::align;

/// A run as text: what it was, the table, the anatomy and the notes.
pub fn run_text(r: &RunRecord) -> String {
    let mut out = format!("run {}: {}\n\n{}", r.run_id, run_line(r), render(r));
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
