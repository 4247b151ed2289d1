//! `loopbench history add RUN...`: store runs in the history, with the commit and branch.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::common::FileArgs;
use crate::history::db::AddOutcome;
use crate::history::from_record::Provenance;
use crate::history::{git, import};
use crate::store::find::resolve_run;

/// Add runs to the history (a run already there is left as it is).
///
/// The commit and branch come from git when the command runs in a repository (on a detached
/// checkout the branch comes from the CI's variable: GITHUB_HEAD_REF, GITHUB_REF_NAME,
/// CI_COMMIT_REF_NAME, BUILDKITE_BRANCH, BRANCH_NAME); --commit and --branch override them.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  loopbench history add latest
  loopbench history add results/runs/20261127T183705Z-4f2a \\
      --commit 4f2a9c1 --branch main
  loopbench history add latest --history /srv/bench/history.sqlite \\
      --label nightly")]
pub struct AddArgs {
    /// Runs: run directories, run.json files, run ids under --output/runs, or `latest`.
    #[arg(required = true, value_name = "RUN")]
    runs: Vec<String>,
    /// The commit measured [default: git rev-parse HEAD].
    #[arg(long)]
    commit: Option<String>,
    /// The branch [default: the branch checked out].
    #[arg(long)]
    branch: Option<String>,
    /// A label for these runs in the history [default: the run's --label].
    #[arg(long)]
    label: Option<String>,
    #[command(flatten)]
    file: FileArgs,
}

/// The provenance of runs measured from the current directory: flags first, then git.
pub fn provenance(
    commit: Option<String>,
    branch: Option<String>,
    label: Option<String>,
) -> Provenance {
    let here = std::path::Path::new(".");
    Provenance {
        commit: commit.or_else(|| git::commit(here)),
        branch: branch.or_else(|| git::branch(here)),
        label,
    }
}

/// Runs the command.
pub fn execute(args: AddArgs) -> Result<ExitCode> {
    // Every run is found before the history is opened: a refused add creates no history file.
    let dirs = args
        .runs
        .iter()
        .map(|run| resolve_run(run, args.file.results.dir()))
        .collect::<Result<Vec<_>>>()?;
    let mut history = super::common::open(&args.file.path())?;
    let provenance = provenance(args.commit, args.branch, args.label);
    for dir in dirs {
        let outcome = import::add_run(&mut history, &dir, &provenance)?;
        let what = match outcome {
            AddOutcome::Added => "added",
            AddOutcome::AlreadyPresent => "already present",
        };
        eprintln!(
            "{what}: {} (commit {})",
            dir.display(),
            provenance.commit.as_deref().unwrap_or("unknown")
        );
    }
    Ok(ExitCode::SUCCESS)
}
