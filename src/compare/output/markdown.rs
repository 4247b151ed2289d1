//! Markdown for a CI job summary or a pull-request comment: the verdict first, then one table
//! row per metric, then what the reader must know (unmatched cases, environment, method).

use super::wording::{cells, method, no_change, summary, trailer, unit_label};
use crate::compare::Comparison;
use crate::compare::gate::Verdict;

/// Escapes the characters that would break a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Renders the comparison as GitHub-flavoured markdown.
pub fn render(c: &Comparison) -> String {
    let k = &c.counts;
    let mut out = format!(
        "### loopbench compare: {}\n\n",
        if c.has_regression() {
            format!(":x: {} regression(s)", k.regressions)
        } else {
            ":white_check_mark: no regression".to_string()
        }
    );
    out.push_str(&format!(
        "{} improvement(s), {}, {} inconclusive, {} reported only. \
         Base: {} run(s), new: {} run(s).\n\n",
        k.improvements,
        no_change(c),
        k.inconclusive,
        k.not_gated,
        c.base.len(),
        c.new.len()
    ));
    out.push_str(&format!(
        "| case | metric | n | base | new | change | {:.0}% CI | p (Holm) | verdict |\n",
        c.config.confidence * 100.0
    ));
    out.push_str("|---|---|--:|--:|--:|--:|---|--:|---|\n");
    for case in &c.cases {
        let title = if case.base_case == case.new_case {
            format!("`{}`", case.new_case)
        } else {
            format!("`{}` → `{}`", case.base_case, case.new_case)
        };
        for (row, m) in case.metrics.iter().enumerate() {
            let title = if row == 0 { title.as_str() } else { "" };
            let verdict = match m.verdict {
                Verdict::Regression => format!("**{}**", m.verdict.label()),
                Verdict::Improvement => format!("*{}*", m.verdict.label()),
                v => v.label().to_string(),
            };
            out.push_str(&format!(
                "| {title} | {} ({}) | {} | {} |\n",
                m.metric,
                unit_label(m.unit),
                cells(m).join(" | "),
                cell(&verdict)
            ));
        }
    }
    let mut list = |title: &str, items: Vec<String>| {
        if !items.is_empty() {
            out.push_str(&format!("\n**{title}**\n\n"));
            for i in items {
                out.push_str(&format!("- {i}\n"));
            }
        }
    };
    let notes: Vec<String> = c
        .cases
        .iter()
        .flat_map(|case| {
            let reasons = case
                .metrics
                .iter()
                .filter(|m| {
                    matches!(m.verdict, Verdict::Regression | Verdict::Inconclusive)
                        || m.change_not_ruled_out
                })
                .map(move |m| format!("`{}` {}: {}", case.new_case, m.metric, m.reason));
            reasons.chain(
                case.notes
                    .iter()
                    .map(move |n| format!("`{}`: {n}", case.new_case)),
            )
        })
        .collect();
    list("Notes", notes);
    for (title, items) in trailer(c, |t| format!("`{t}`")) {
        list(title, items);
    }
    out.push_str(&format!(
        "\n<details><summary>Method</summary>\n\n{}\n\n</details>\n\n{}\n",
        method(c),
        summary(c)
    ));
    out
}
