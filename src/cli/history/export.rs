//! `loopbench history export`: the history as JSON lines, CSV, OpenMetrics or BMF.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use super::common::{FileArgs, FilterArgs};
use crate::cli::output::print;
use crate::error::UsageError;
use crate::history::export::rows::{Row, from_history};
use crate::history::export::{ExportFormat, tabular, to_bmf, to_openmetrics};
use crate::store::write_atomic;

/// Export the history: jsonl, csv, openmetrics (a backfill with timestamps, for Prometheus,
/// VictoriaMetrics, Grafana) or bmf (one run, for Bencher).
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  loopbench history export --format jsonl > history.jsonl
  loopbench history export --format csv --branch main -O history.csv
  loopbench history export --format openmetrics -O history.om
  loopbench history export --format bmf > bmf.json

Then, for Prometheus: promtool tsdb create-blocks-from openmetrics history.om ./data
and for Bencher: bencher run --adapter json --file bmf.json ...")]
pub struct ExportArgs {
    /// jsonl, csv, openmetrics or bmf.
    #[arg(long, value_name = "FORMAT")]
    format: String,
    #[command(flatten)]
    filter: FilterArgs,
    /// bmf: the run to export [default: the newest run matching the filters].
    #[arg(long, value_name = "RUN_ID")]
    run: Option<String>,
    /// Write to FILE instead of stdout.
    #[arg(long = "to", short = 'O', value_name = "FILE")]
    to: Option<PathBuf>,
    #[command(flatten)]
    file: FileArgs,
}

/// The rows of one run for BMF: `run`, or the newest.
fn one_run(rows: Vec<Row>, run: Option<&str>) -> Result<Vec<Row>> {
    let newest = rows
        .iter()
        .max_by(|a, b| (&a.started_at, &a.run_id).cmp(&(&b.started_at, &b.run_id)));
    let Some(pick) = run
        .map(String::from)
        .or_else(|| newest.map(|r| r.run_id.clone()))
    else {
        bail!(UsageError(
            "the history has no runs matching the filters".into()
        ));
    };
    let fingerprint = rows
        .iter()
        .filter(|r| r.run_id == pick)
        .map(|r| r.fingerprint.clone())
        .max();
    let chosen: Vec<Row> = rows
        .into_iter()
        .filter(|r| r.run_id == pick && Some(&r.fingerprint) == fingerprint.as_ref())
        .collect();
    if chosen.is_empty() {
        bail!(UsageError(format!(
            "no run {pick} in the history (`loopbench history list` shows them)"
        )));
    }
    Ok(chosen)
}

/// Runs the command.
pub fn execute(args: ExportArgs) -> Result<ExitCode> {
    let format: ExportFormat = args.format.parse()?;
    let history = super::common::open_existing(&args.file.path())?;
    let rows = from_history(&history, &args.filter.filter())?;
    let text = match format {
        ExportFormat::Jsonl => tabular::jsonl(&rows)?,
        ExportFormat::Csv => tabular::csv(&rows)?,
        ExportFormat::OpenMetrics => to_openmetrics::render_rows(&rows, true)?,
        ExportFormat::Bmf => to_bmf::render_rows(&one_run(rows, args.run.as_deref())?)?,
    };
    match &args.to {
        Some(path) => write_atomic(path, text.as_bytes())
            .with_context(|| format!("writing --to {}", path.display()))?,
        None => print(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}
