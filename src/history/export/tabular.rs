//! Rows as JSON lines (every field, iterations included) and as CSV (one row per figure, the
//! iterations as a count and a `;`-separated list).

use anyhow::Result;

use super::rows::Row;

/// One JSON object per row and line.
pub fn jsonl(rows: &[Row]) -> Result<String> {
    let mut out = String::new();
    for row in rows {
        out.push_str(&serde_json::to_string(row)?);
        out.push('\n');
    }
    Ok(out)
}

/// The CSV header and one record per row.
pub fn csv(rows: &[Row]) -> Result<String> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record([
        "run_id",
        "started_at",
        "commit",
        "branch",
        "label",
        "host",
        "fingerprint",
        "kernel",
        "lo_settings",
        "case_id",
        "metric",
        "unit",
        "value",
        "iterations",
        "iteration_values",
    ])?;
    for r in rows {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let its: Vec<String> = r.iterations.iter().map(|v| v.to_string()).collect();
        w.write_record([
            r.run_id.clone(),
            r.started_at.clone(),
            opt(&r.commit),
            opt(&r.branch),
            opt(&r.label),
            r.host.clone(),
            r.fingerprint.clone(),
            r.kernel.clone(),
            r.lo_settings.clone(),
            r.case_id.clone(),
            r.metric.clone(),
            r.unit.clone(),
            r.value.to_string(),
            r.iterations.len().to_string(),
            its.join(";"),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
