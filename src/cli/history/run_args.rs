//! The history flags of `run`, `suite` and `client` (a leaf: cli/args.rs flattens them, and
//! after_run.rs acts on them).

use std::path::PathBuf;

use clap::Args;

/// The history flags of the measuring commands.
#[derive(Debug, Clone, Args)]
pub struct RunHistoryArgs {
    /// Add the run to the history: FILE, or DIR/history.sqlite under --output when no FILE is
    /// given (the commit and branch come from git, as `history add` takes them).
    #[arg(long = "history", value_name = "FILE", num_args = 0..=1)]
    pub history: Option<Option<PathBuf>>,
    /// Write the run's figures as OpenMetrics text to FILE (a node_exporter textfile, or a
    /// Pushgateway body), without timestamps.
    #[arg(long, value_name = "FILE")]
    pub export_openmetrics: Option<PathBuf>,
}
