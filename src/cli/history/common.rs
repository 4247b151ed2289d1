//! What the history subcommands share: where the file is, the run filters, opening it.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::cli::args::ResultsArg;
use crate::history::db::SeriesFilter;

/// Environment variable that names the history file (instead of `--history`).
pub const HISTORY_ENV: &str = "LOOPBENCH_HISTORY";

/// Where the history file is: --history FILE, or history.sqlite in the results directory.
#[derive(Debug, Clone, Args)]
pub struct FileArgs {
    /// The history file [default: history.sqlite in --output].
    #[arg(long = "history", value_name = "FILE", env = HISTORY_ENV)]
    history: Option<PathBuf>,
    #[command(flatten)]
    pub results: ResultsArg,
}

impl FileArgs {
    /// The history file.
    pub fn path(&self) -> PathBuf {
        self.history
            .clone()
            .unwrap_or_else(|| self.results.dir().join(crate::history::DEFAULT_FILE))
    }
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
    opened(crate::history::db::History::open(path))
}

/// A file that is not a history (or one this version cannot migrate) is a usage error (exit 2).
fn opened(
    result: Result<crate::history::db::History, crate::history::db::HistoryError>,
) -> Result<crate::history::db::History> {
    result.map_err(|e| match e {
        crate::history::db::HistoryError::Open { .. } => crate::error::UsageError(format!(
            "{e}; give --history a loopbench history file, or a new path to start one"
        ))
        .into(),
        other => other.into(),
    })
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
    opened(crate::history::db::History::open(path))
}
