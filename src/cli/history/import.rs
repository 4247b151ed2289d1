//! `loopbench history import PATH...`: fill the history from result directories or merge other
//! history files (a fleet's per-host histories into one).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::common::FileArgs;
use crate::history::from_record::Provenance;
use crate::history::import::import;

/// Import every run under result directories, or merge other history files (idempotent).
///
/// A directory is searched for run.json files (a results directory, a study, a fleet's collected
/// results); a SQLite file is another history, whose runs are merged with the commit and branch
/// they have there. --commit and --branch apply to every run.json imported (git is not asked:
/// a directory of runs is rarely all of the checked-out commit).
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  loopbench history import results/
  loopbench history import fleet/host-a/history.sqlite \\
      fleet/host-b/history.sqlite
  loopbench history import artifacts/ --branch main")]
pub struct ImportArgs {
    /// Result directories, run directories or history files.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The commit of every run.json imported.
    #[arg(long)]
    commit: Option<String>,
    /// The branch of every run.json imported.
    #[arg(long)]
    branch: Option<String>,
    /// A label for every run.json imported.
    #[arg(long)]
    label: Option<String>,
    #[command(flatten)]
    file: FileArgs,
}

/// Runs the command.
pub fn execute(args: ImportArgs) -> Result<ExitCode> {
    let mut history = super::common::open(&args.file.path())?;
    let provenance = Provenance {
        commit: args.commit,
        branch: args.branch,
        label: args.label,
    };
    for path in &args.paths {
        let count = import(&mut history, path, &provenance)?;
        eprintln!(
            "{}: {} added, {} already present",
            path.display(),
            count.added,
            count.present
        );
    }
    Ok(ExitCode::SUCCESS)
}
