//! The terminal table: one block per case, one row per metric, then unmatched cases,
//! environment differences, warnings and the verdict line.

use super::wording::{cells, method, summary, trailer, unit_label};
use crate::compare::Comparison;
use crate::compare::gate::Verdict;
use crate::text::columns;

/// Renders the comparison for a terminal.
pub fn render(c: &Comparison) -> String {
    let mut out = String::new();
    for (side, runs) in [("base", &c.base), ("new", &c.new)] {
        let load: Vec<f64> = runs.iter().filter_map(|r| r.loadavg_1m).collect();
        let (lo, hi) = load
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &l| (a.min(l), b.max(l)));
        out.push_str(&format!(
            "{side}: {} run(s), {}{}\n",
            runs.len(),
            runs.first().map_or("-".into(), |r| r.tool.clone()),
            match load.len() {
                0 => String::new(),
                _ if lo == hi => format!(", load average {lo:.1}"),
                _ => format!(", load average {lo:.1}–{hi:.1}"),
            }
        ));
    }
    out.push('\n');
    let mut rows = vec![
        [
            "case / metric",
            "n",
            "base",
            "new",
            "change",
            "95% CI",
            "p (Holm)",
            "verdict",
        ]
        .map(String::from)
        .to_vec(),
    ];
    let ci_header = format!("{:.0}% CI", c.config.confidence * 100.0);
    rows[0][5] = ci_header;
    let mut notes = Vec::new();
    for case in &c.cases {
        let title = if case.base_case == case.new_case {
            case.new_case.to_string()
        } else {
            format!("{} → {}", case.base_case, case.new_case)
        };
        rows.push(vec![title.clone()]);
        for m in &case.metrics {
            let verdict = match m.verdict {
                Verdict::Regression | Verdict::Improvement => {
                    format!(
                        "{} (beyond ±{:.0}%)",
                        m.verdict.label(),
                        m.threshold * 100.0
                    )
                }
                v => v.label().to_string(),
            };
            let mut row = vec![format!("  {} {}", m.metric, unit_label(m.unit))];
            row.extend(cells(m));
            row.push(verdict);
            rows.push(row);
            if matches!(m.verdict, Verdict::Inconclusive) || m.change_not_ruled_out {
                notes.push(format!("{title} {}: {}", m.metric, m.reason));
            }
        }
        notes.extend(case.notes.iter().map(|n| format!("{title}: {n}")));
    }
    out.push_str(&columns(
        &rows,
        &[false, true, true, true, true, false, true, false],
    ));
    let mut section = |title: &str, lines: Vec<String>| {
        if !lines.is_empty() {
            out.push_str(&format!("\n{title}:\n"));
            for l in lines {
                out.push_str(&format!("  {l}\n"));
            }
        }
    };
    section("Notes", notes);
    for (title, lines) in trailer(c, str::to_string) {
        section(title, lines);
    }
    out.push_str(&format!("\nMethod: {}\n\n{}\n", method(c), summary(c)));
    out
}
