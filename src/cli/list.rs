//! `loopbench list`: the runs in a results directory.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::args::ResultsArg;
use super::output::print;
use crate::report::export::html;
use crate::store::find::{LIST_SCHEMA_VERSION, RunEntry, RunList, run_dirs, runs_dir};
use crate::store::record::{run_state, short_time};
use crate::text::align;

/// List the runs in the results directory: id, start, suite, cases, completeness.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  loopbench list
  loopbench list -o /srv/loopbench-results
  loopbench list --json | jq '.runs[] | select(.complete) | .run_id'

A run whose run.json cannot be read is listed with the reason.")]
pub struct ListArgs {
    #[command(flatten)]
    results: ResultsArg,
    /// Print a JSON array instead of the table.
    #[arg(long)]
    json: bool,
}

fn row(e: &RunEntry) -> Vec<String> {
    let state = match &e.unreadable {
        Some(why) => format!("unreadable: {why}"),
        None => run_state(e.complete, e.interrupted).into(),
    };
    let started = e.started_at.as_deref().map(short_time);
    let what = match (&e.suite, &e.label) {
        (Some(s), Some(l)) => format!("{s} ({l})"),
        (Some(s), None) => s.clone(),
        (None, Some(l)) => format!("({l})"),
        (None, None) => "-".into(),
    };
    vec![
        e.run_id.clone(),
        started.unwrap_or_else(|| "-".into()),
        what,
        e.cases.to_string(),
        e.failed.to_string(),
        if e.report { "yes" } else { "no" }.into(),
        state,
    ]
}

/// Runs the command.
pub fn execute(args: ListArgs) -> Result<ExitCode> {
    let dir = args.results.dir();
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!(crate::error::UsageError(format!(
            "--output {} is not a directory: give the results directory (runs are in DIR/runs/)",
            dir.display()
        )));
    }
    let entries: Vec<RunEntry> = run_dirs(dir)
        .iter()
        .map(|d| RunEntry::read(d, d.join(html::FILE_NAME).is_file()))
        .collect();
    if args.json {
        let doc = RunList {
            schema_version: LIST_SCHEMA_VERSION,
            runs: entries,
        };
        print(&(serde_json::to_string_pretty(&doc)? + "\n"))?;
    } else if entries.is_empty() {
        eprintln!(
            "no runs in {}; measure one with `loopbench suite`",
            runs_dir(args.results.dir()).display()
        );
    } else {
        let rows: Vec<Vec<String>> = entries.iter().map(row).collect();
        let header = [
            "run",
            "started (UTC)",
            "suite",
            "cases",
            "failed",
            "report",
            "state",
        ];
        print(&align(&header, &rows))?;
    }
    Ok(ExitCode::SUCCESS)
}
