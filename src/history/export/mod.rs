//! Exports of a history (or of one run) to the tools teams already run: JSON lines and CSV for
//! scripts and spreadsheets, OpenMetrics text for Prometheus, VictoriaMetrics and Grafana, and
//! the Bencher Metric Format for `bencher run --adapter json`. [`rows`] flattens runs into one
//! figure per row; each format file renders rows.

pub mod bmf;
pub mod openmetrics;
pub mod rows;
pub mod tabular;
pub mod to_bmf;
pub mod to_openmetrics;

use std::str::FromStr;

use crate::error::ConfigError;

/// The formats of `history export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON object per figure and line.
    Jsonl,
    /// One CSV row per figure.
    Csv,
    /// OpenMetrics text exposition with a timestamp per point (a backfill).
    OpenMetrics,
    /// Bencher Metric Format JSON of one run.
    Bmf,
}

impl FromStr for ExportFormat {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<ExportFormat, ConfigError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "jsonl" | "ndjson" => Ok(ExportFormat::Jsonl),
            "csv" => Ok(ExportFormat::Csv),
            "openmetrics" | "prometheus" => Ok(ExportFormat::OpenMetrics),
            "bmf" | "bencher" => Ok(ExportFormat::Bmf),
            _ => Err(ConfigError::UnknownValue {
                dimension: "export format",
                value: s.into(),
                expected: "jsonl, csv, openmetrics, bmf".into(),
            }),
        }
    }
}
