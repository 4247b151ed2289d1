//! `loopbench history`: the results history (one SQLite file of runs across commits and hosts),
//! its change points and its exports. One file per subcommand; the flags they share are here.

mod add;
mod after_run;
mod check;
mod export;
mod import;
mod list;
mod show;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::history::db::SeriesFilter;
pub use after_run::{RunHistoryArgs, after_run};

/// Environment variable that names the history file (instead of `--history`).
pub const HISTORY_ENV: &str = "LOOPBENCH_HISTORY";

/// The default history file.
pub fn default_path() -> PathBuf {
    PathBuf::from(crate::store::DEFAULT_RESULTS_DIR).join(crate::history::DEFAULT_FILE)
}

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
  loopbench history show tcp4-rr-blocking-cross-core-64B --metric p50 --html trend.html
  loopbench history check --branch main --format markdown >> \"$GITHUB_STEP_SUMMARY\"
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

/// Where the history file is.
#[derive(Debug, Clone, Args)]
pub struct FileArgs {
    /// The history file.
    #[arg(long = "history", value_name = "FILE", env = HISTORY_ENV, default_value_os_t = default_path())]
    pub path: PathBuf,
}

/// Which runs a query looks at.
#[derive(Debug, Clone, Args)]
pub struct FilterArgs {
    /// Only runs of this branch.
    #[arg(long)]
    pub branch: Option<String>,
    /// Only runs of this host (name).
    #[arg(long)]
    pub host: Option<String>,
    /// Only runs of this machine fingerprint (`history list` shows them).
    #[arg(long)]
    pub fingerprint: Option<String>,
    /// Only runs on this kernel release.
    #[arg(long)]
    pub kernel: Option<String>,
}

impl FilterArgs {
    /// The filter.
    pub fn filter(&self) -> SeriesFilter {
        SeriesFilter {
            branch: self.branch.clone(),
            host: self.host.clone(),
            fingerprint: self.fingerprint.clone(),
            kernel: self.kernel.clone(),
        }
    }
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

/// Opens the history at `path`, creating its directory when needed.
pub fn open(path: &std::path::Path) -> Result<crate::history::db::History> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            crate::error::UsageError(format!(
                "cannot create {} for the history: {e}; choose another --history FILE",
                dir.display()
            ))
        })?;
    }
    Ok(crate::history::db::History::open(path)?)
}

/// Opens an existing history; a missing file is a usage error that says how to make one.
pub fn open_existing(path: &std::path::Path) -> Result<crate::history::db::History> {
    if !path.is_file() {
        anyhow::bail!(crate::error::UsageError(format!(
            "no history at {}; add runs with `loopbench history add RUN` or `loopbench run --history`, \
             or point --history (or {HISTORY_ENV}) at the file",
            path.display()
        )));
    }
    Ok(crate::history::db::History::open(path)?)
}
