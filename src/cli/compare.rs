//! `loopbench compare BASE NEW`: the regression gate.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::args::ResultsArg;
use super::gate_args::{GateArgs, METHOD, as_usage};
use crate::compare::input::load_side;

/// Compare two sets of runs and decide whether NEW regressed against BASE.
#[derive(Debug, Args)]
#[command(
    long_about = format!("Compare two sets of runs and decide whether NEW regressed against BASE.\n\n{METHOD}"),
    after_help = "\
Examples:
  loopbench compare results/runs/20261127T183705Z-4f2a \\
      results/runs/20261128T090000Z-1b2c
  loopbench compare main latest --junit gate.xml --export-markdown gate.md \\
      --export-json gate.json
  loopbench compare base-a/run.json,base-b/run.json new-a,new-b \\
      --threshold 3,p99=15
  loopbench compare plain delayed \\
      --pair=tcp4-rr-blocking-cross-core-64B=tcp4-rr-blocking-cross-core-64B-delay5000ns
  loopbench compare results/ab/<id>/base results/ab/<id>/new --format json

Under GitHub Actions (GITHUB_ACTIONS=true) the gate also annotates regressions (::error::) and
inconclusive metrics (::warning::) on stderr, appends its markdown to $GITHUB_STEP_SUMMARY and
writes verdict=, regressions=, improvements=, no_change=, inconclusive=, not_gated= to
$GITHUB_OUTPUT; docs/ci-gate.example.yml is a workflow that uses them.

Exit codes: 0 no regression, 1 regression, 2 usage or data error (the message names the file)."
)]
pub struct CompareArgs {
    /// BASE: comma list of runs: run directories, run.json files, `latest`, run ids or unique
    /// starts of them, baseline names, directories of runs.
    base: String,
    /// NEW: the same kinds.
    new: String,
    #[command(flatten)]
    gate: GateArgs,
    #[command(flatten)]
    results: ResultsArg,
}

fn split(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn run(args: &CompareArgs, results: &Path) -> Result<ExitCode> {
    args.gate.options()?;
    let base = load_side("BASE", &split(&args.base), results)?;
    let new = load_side("NEW", &split(&args.new), results)?;
    Ok(args.gate.compare_and_print(&base, &new)?.1)
}

/// Runs the command.
pub fn execute(args: CompareArgs) -> Result<ExitCode> {
    run(&args, args.results.dir()).map_err(as_usage)
}
