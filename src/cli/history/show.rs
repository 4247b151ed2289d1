//! `loopbench history show CASE`: one case's metric over the runs, as a table or an HTML chart.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use super::common::{FileArgs, FilterArgs};
use crate::cli::output::print;
use crate::history::changepoint::Config;
use crate::history::page::page;
use crate::history::show::show;
use crate::store::metric::Metric;
use crate::store::write_atomic;

/// Show one case's metric over the runs (commits), with each run's interval and the change
/// points; --html writes the chart.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  loopbench history show tcp4-rr-blocking-cross-core-64B
  loopbench history show tcp4-stream-blocking-cross-core-64KiB \\
      --metric throughput --branch main
  loopbench history show tcp4-rr-blocking-cross-core-64B --host bench-01 \\
      --html trend.html

Figures from several machines are never mixed: when the case was measured on more than one,
name one with --host or --fingerprint.")]
pub struct ShowArgs {
    /// The case id.
    #[arg(value_name = "CASE")]
    case: String,
    /// The metric: p50, p99, p99.9, throughput, receiver-cpu [default: p50, or throughput for
    /// a case without latency].
    #[arg(long)]
    metric: Option<String>,
    #[command(flatten)]
    filter: FilterArgs,
    /// Write the chart and the table as a self-contained HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    file: FileArgs,
}

/// Runs the command.
pub fn execute(args: ShowArgs) -> Result<ExitCode> {
    let history = super::common::open_existing(&args.file.path())?;
    let filter = args.filter.filter();
    let metric = match &args.metric {
        Some(m) => m.parse::<Metric>()?,
        None => {
            let keys = history.series_keys(&filter)?;
            let has = |m: Metric| {
                keys.iter()
                    .any(|k| k.case_id == args.case && k.metric == m.name())
            };
            if !has(Metric::P50) && has(Metric::Throughput) {
                Metric::Throughput
            } else {
                Metric::P50
            }
        }
    };
    let report = show(&history, &args.case, metric, &filter, &Config::default())?;
    if let Some(path) = &args.html {
        write_atomic(path, page(&report)?.as_bytes())
            .with_context(|| format!("writing --html {}", path.display()))?;
        eprintln!("chart: {}", path.display());
    }
    if args.json {
        print(&(serde_json::to_string_pretty(&report)? + "\n"))?;
    } else {
        print(&report.table())?;
    }
    Ok(ExitCode::SUCCESS)
}
