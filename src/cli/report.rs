//! `loopbench report`: (re)generate a run's report.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::args::ResultsArg;
use super::output::print;
use crate::store::find::{LATEST, resolve_run};

/// (Re)generate a run's report: summary.md, summary.csv, plots/*.svg and report.html.
///
/// report.html is one self-contained page (inline SVG, no scripts, no network): the environment
/// snapshot, the loopback anatomy chart, the tables and every chart. `loopbench run` and
/// `loopbench suite` write it at the end of a run; this command rewrites it for any run, e.g.
/// one measured with --no-report or by an older loopbench.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  loopbench report
  loopbench report latest
  loopbench report 20261127T192130Z-1f0e
  loopbench report results/runs/20261127T192130Z-1f0e
  loopbench report /tmp/elsewhere/run.json

RUN is a run directory, its run.json, `latest`, a run id under --output/runs or a unique
start of one, or a saved baseline of one run.
Exit codes: 0 ok, 2 no such run or not a run.json.")]
pub struct ReportArgs {
    /// The run: a run directory, a run.json, `latest`, a run id or a unique start of one.
    #[arg(default_value = LATEST, value_name = "RUN")]
    run: String,
    #[command(flatten)]
    results: ResultsArg,
}

/// Runs the command: prints every file written.
pub fn execute(args: ReportArgs) -> Result<ExitCode> {
    let dir = resolve_run(&args.run, args.results.dir())?;
    let written = crate::report::generate(&dir)?;
    let lines: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    print(&(lines.join("\n") + "\n"))?;
    Ok(ExitCode::SUCCESS)
}
