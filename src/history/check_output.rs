//! A [`CheckReport`] as `compare` shows a comparison: an aligned table for a terminal, markdown
//! for a CI job summary, or JSON. Each change point is named by the commit where the new segment
//! starts, with its size, interval and p-value.

use super::changepoint::Verdict;
use super::check::{ChangePointReport, CheckReport, Direction, SeriesCheck};
use crate::compare::output::{Format, change, format_p, unit_label};
use crate::text::align;

fn short(commit: &Option<String>) -> String {
    commit
        .as_deref()
        .map(|c| c.chars().take(12).collect())
        .unwrap_or_else(|| "-".into())
}

fn verdict_word(s: &SeriesCheck) -> &'static str {
    match (s.verdict, s.gated) {
        (Verdict::Regression, true) => "REGRESSION",
        (Verdict::Regression, false) => "regression (not gated)",
        (Verdict::WithinThreshold, _) => "worse, within threshold",
        (Verdict::Improvement, _) => "improvement",
        (Verdict::NoChange, _) if s.too_short => "too few runs",
        (Verdict::NoChange, _) => "no change",
    }
}

fn interval(r: &crate::stats::Estimate) -> String {
    let ci = r.confidence_interval;
    format!("[{}, {}]", change(ci.lower_bound), change(ci.upper_bound))
}

fn cp_line(cp: &ChangePointReport) -> String {
    let dir = match cp.direction {
        Direction::Worse => "worse",
        Direction::Better => "better",
    };
    let mut line = format!(
        "run {} ({}), commit {} (after {}): {} {} {}, p = {}",
        cp.index + 1,
        cp.run_id,
        short(&cp.commit),
        short(&cp.previous_commit),
        change(cp.ratio.point),
        interval(&cp.ratio),
        dir,
        format_p(cp.p_value)
    );
    if !cp.changed.is_empty() {
        line.push_str(&format!("; also changed: {}", cp.changed.join(", ")));
    }
    line
}

fn verdict_line(s: &SeriesCheck) -> String {
    match (&s.since, &s.ratio) {
        (Some(since), Some(ratio)) => format!(
            "{} since commit {} ({} step{}): {} {} against the threshold ±{:.0} %",
            verdict_word(s),
            short(&since.commit),
            s.steps,
            if s.steps == 1 { "" } else { "s" },
            change(ratio.point),
            interval(ratio),
            s.threshold * 100.0
        ),
        _ => verdict_word(s).to_string(),
    }
}

fn summary(report: &CheckReport) -> String {
    let failing = report.regressions().count();
    let with_cp = report
        .series
        .iter()
        .filter(|s| !s.change_points.is_empty())
        .count();
    if failing > 0 {
        format!(
            "REGRESSION: {failing} of {} series regressed in their newest segment ({with_cp} with change points)",
            report.series.len()
        )
    } else {
        format!(
            "no regression in the newest segment of {} series ({with_cp} with change points)",
            report.series.len()
        )
    }
}

fn table(report: &CheckReport) -> String {
    let rows: Vec<Vec<String>> = report
        .series
        .iter()
        .map(|s| {
            vec![
                s.case_id.clone(),
                format!("{} ({})", s.metric, unit_label(s.unit)),
                s.host.clone(),
                s.runs.to_string(),
                s.change_points.len().to_string(),
                verdict_line(s),
            ]
        })
        .collect();
    let mut out = align(
        &[
            "case",
            "metric",
            "host",
            "runs",
            "change points",
            "newest segment",
        ],
        &rows,
    );
    for s in report.series.iter().filter(|s| !s.change_points.is_empty()) {
        out.push_str(&format!("\n{} {} on {}:\n", s.case_id, s.metric, s.host));
        for cp in &s.change_points {
            out.push_str(&format!("  {}\n", cp_line(cp)));
        }
        for note in &s.notes {
            out.push_str(&format!("  note: {note}\n"));
        }
    }
    out.push_str(&format!("\n{}\n{}\n", report.method, summary(report)));
    out
}

fn markdown(report: &CheckReport) -> String {
    let mut out = format!("### loopbench history check\n\n**{}**\n\n", summary(report));
    out.push_str("| case | metric | host | runs | change points | newest segment |\n");
    out.push_str("|---|---|---|--:|--:|---|\n");
    for s in &report.series {
        let verdict = verdict_line(s);
        let verdict = if s.fails() {
            format!("**{verdict}**")
        } else {
            verdict
        };
        out.push_str(&format!(
            "| `{}` | {} ({}) | {} | {} | {} | {} |\n",
            s.case_id,
            s.metric,
            unit_label(s.unit),
            s.host,
            s.runs,
            s.change_points.len(),
            verdict
        ));
    }
    let with_cp: Vec<&SeriesCheck> = report
        .series
        .iter()
        .filter(|s| !s.change_points.is_empty())
        .collect();
    if !with_cp.is_empty() {
        out.push_str("\n#### Change points\n\n");
        for s in with_cp {
            for cp in &s.change_points {
                out.push_str(&format!(
                    "- `{}` {} on {}: {}\n",
                    s.case_id,
                    s.metric,
                    s.host,
                    cp_line(cp)
                ));
            }
        }
    }
    out.push_str(&format!("\n<sub>{}</sub>\n", report.method));
    out
}

/// Renders `report` in `format`.
pub fn render(report: &CheckReport, format: Format) -> String {
    match format {
        Format::Table => table(report),
        Format::Markdown => markdown(report),
        // Plain data (strings, numbers, enums as words) always serialises.
        Format::Json => serde_json::to_string_pretty(report).expect("the report serialises") + "\n",
    }
}
