//! `loopbench list`: the runs in a results directory.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::args::ResultsArg;
use super::output::print;
use crate::report::export::html;
use crate::store::find::{run_dirs, runs_dir};
use crate::store::load_run;
use crate::store::record::{run_state, short_time};
use crate::text::align;

/// List the runs in the results directory: id, start, suite, cases, completeness.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  loopbench list
  loopbench list -o /srv/loopbench-results
  loopbench list --json | jq '.[] | select(.complete) | .run_id'

A run whose run.json cannot be read is listed with the reason.")]
pub struct ListArgs {
    #[command(flatten)]
    results: ResultsArg,
    /// Print a JSON array instead of the table.
    #[arg(long)]
    json: bool,
}

/// One run, as listed.
#[derive(Debug, Serialize)]
struct Entry {
    run_id: String,
    dir: String,
    started_at: Option<String>,
    suite: Option<String>,
    label: Option<String>,
    cases: usize,
    failed: usize,
    complete: bool,
    interrupted: bool,
    report: bool,
    /// Why run.json could not be read, when it could not.
    unreadable: Option<String>,
}

fn entry(dir: PathBuf) -> Entry {
    let mut e = Entry {
        run_id: dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        dir: dir.display().to_string(),
        started_at: None,
        suite: None,
        label: None,
        cases: 0,
        failed: 0,
        complete: false,
        interrupted: false,
        report: dir.join(html::FILE_NAME).is_file(),
        unreadable: None,
    };
    match load_run(&dir) {
        Ok(r) => {
            e.started_at = Some(r.started_at.clone());
            e.suite = r.suite;
            e.label = r.label;
            e.cases = r.cases.len();
            e.failed = r.cases.iter().filter(|c| !c.errors.is_empty()).count();
            e.complete = r.complete;
            e.interrupted = r.interrupted;
        }
        Err(err) => e.unreadable = Some(format!("{err:#}")),
    }
    e
}

fn row(e: &Entry) -> Vec<String> {
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
    let entries: Vec<Entry> = run_dirs(args.results.dir())
        .into_iter()
        .map(entry)
        .collect();
    if args.json {
        print(&(serde_json::to_string_pretty(&entries)? + "\n"))?;
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
