//! `loopbench history`: the results history (one SQLite file of runs across commits and hosts),
//! its change points and its exports. One file per subcommand; the flags they share are here.

mod add;
mod after_run;
mod check;
mod common;
mod export;
mod import;
mod list;
mod run_args;
mod show;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};

pub use after_run::{after_run, before_run};
pub use run_args::RunHistoryArgs;

/// Results across commits and hosts: add runs, look for change points, export.
///
/// The history is one SQLite file (default results/history.sqlite; nothing to install). Every
/// run is stored with its machine (host, CPU model, CPU count, virtualization: the fingerprint),
/// kernel, loopback settings, commit and branch; series of different machines are never mixed.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  loopbench history add latest
  loopbench run -t tcp4 --history
  loopbench history import results/
  loopbench history list --branch main
  loopbench history show tcp4-rr-blocking-cross-core-64B --metric p50 \\
      --html trend.html
  loopbench history check --branch main --format markdown \\
      >> \"$GITHUB_STEP_SUMMARY\"
  loopbench history export --format openmetrics > history.om

Exit codes: 0 ok, 1 `check` found a regression, 2 usage or data error.")]
pub struct HistoryArgs {
    #[command(subcommand)]
    command: HistoryCommand,
}

#[derive(Debug, Subcommand)]
enum HistoryCommand {
    Add(add::AddArgs),
    Import(import::ImportArgs),
    List(list::ListArgs),
    Show(show::ShowArgs),
    Check(check::CheckArgs),
    Export(export::ExportArgs),
}

/// Runs the command.
pub fn execute(args: HistoryArgs) -> Result<ExitCode> {
    match args.command {
        HistoryCommand::Add(a) => add::execute(a),
        HistoryCommand::Import(a) => import::execute(a),
        HistoryCommand::List(a) => list::execute(a),
        HistoryCommand::Show(a) => show::execute(a),
        HistoryCommand::Check(a) => check::execute(a),
        HistoryCommand::Export(a) => export::execute(a),
    }
}
