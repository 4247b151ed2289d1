//! `loopbench history list`: the stored runs.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::common::{FileArgs, FilterArgs};
use crate::cli::output::print;
use crate::history::db::{RunList, SCHEMA_VERSION};
use crate::store::record::short_time;
use crate::text::align;

/// List the runs in the history, oldest first, with their machine, commit and settings.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  loopbench history list
  loopbench history list --branch main --host bench-01 --json")]
pub struct ListArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    file: FileArgs,
}

/// Runs the command.
pub fn execute(args: ListArgs) -> Result<ExitCode> {
    let history = super::common::open_existing(&args.file.path())?;
    let runs = history.list_runs(&args.filter.filter())?;
    if args.json {
        let list = RunList {
            schema_version: SCHEMA_VERSION,
            runs,
        };
        print(&(serde_json::to_string_pretty(&list)? + "\n"))?;
        return Ok(ExitCode::SUCCESS);
    }
    let opt = |v: &Option<String>, n: usize| {
        v.as_deref()
            .map(|s| s.chars().take(n).collect())
            .unwrap_or_else(|| "-".into())
    };
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            vec![
                r.run_id.clone(),
                short_time(&r.started_at),
                opt(&r.commit, 12),
                opt(&r.branch, 30),
                r.host.clone(),
                r.fingerprint.clone(),
                r.kernel.clone(),
                r.cases.to_string(),
                format!(
                    "{}{}",
                    r.lo_settings,
                    if r.complete { "" } else { " (incomplete)" }
                ),
            ]
        })
        .collect();
    let header = [
        "run",
        "started (UTC)",
        "commit",
        "branch",
        "host",
        "machine",
        "kernel",
        "cases",
        "loopback",
    ];
    print(&align(&header, &rows))?;
    Ok(ExitCode::SUCCESS)
}
