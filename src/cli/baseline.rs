//! `loopbench baseline save NAME RUN...` and `baseline list`: named runs for the gate.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::args::ResultsArg;
use super::output::print;
use crate::store::baseline::{self, BaselineInfo};
use crate::store::find::resolve_runs;

/// Keep runs under a name (results/baselines/NAME/) for `loopbench compare NAME NEW`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  loopbench baseline save main results/runs/20261127T183705Z-4f2a
  loopbench baseline save main latest --force
  loopbench baseline save v0.3 results/runs/A results/runs/B
  loopbench baseline list
  loopbench compare main latest")]
pub struct BaselineArgs {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    results: ResultsArg,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Copy one or more runs into results/baselines/NAME/ (checked, complete or not, atomically).
    #[command(after_help = "\
Examples:
  loopbench baseline save main latest
  loopbench baseline save v1.2 results/runs/20261127T183705Z-4f2a --force")]
    Save {
        /// The baseline's name (letters, digits, '.', '_', '-').
        name: String,
        /// The runs: run directories, run.json files, `latest`, run ids or unique starts of them,
        /// directories of runs, other baselines.
        #[arg(required = true)]
        runs: Vec<String>,
        /// Replace an existing baseline of that name.
        #[arg(long)]
        force: bool,
    },
    /// List the saved baselines.
    #[command(after_help = "\
Examples:
  loopbench baseline list
  loopbench baseline list --json -o /srv/loopbench-results")]
    List {
        /// Print the manifests as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn describe(b: &BaselineInfo) -> Vec<String> {
    let revs: Vec<String> = b
        .runs
        .iter()
        .filter_map(|r| r.git_revision.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    vec![
        b.name.clone(),
        b.runs.len().to_string(),
        b.runs
            .iter()
            .map(|r| r.cases)
            .max()
            .unwrap_or(0)
            .to_string(),
        b.saved_at.clone(),
        if revs.is_empty() {
            "-".into()
        } else {
            revs.join(",")
        },
    ]
}

/// Runs the command.
pub fn execute(args: BaselineArgs) -> Result<ExitCode> {
    let results = args.results.dir();
    let result = match args.action {
        Action::Save { name, runs, force } => {
            let mut paths = Vec::new();
            for r in &runs {
                paths.extend(resolve_runs(r, results)?);
            }
            baseline::save(results, &name, &paths, force).map(|info| {
                eprintln!(
                    "saved baseline '{}': {} run(s) ({}) in {}",
                    info.name,
                    info.runs.len(),
                    info.runs
                        .iter()
                        .map(|r| r.run_id.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    baseline::baselines_dir(results).join(&info.name).display()
                );
            })
        }
        Action::List { json } => baseline::list(results).and_then(|all| {
            if json {
                let doc = baseline::BaselineList {
                    schema_version: baseline::SCHEMA_VERSION,
                    baselines: all,
                };
                return print(&(serde_json::to_string_pretty(&doc)? + "\n"));
            }
            if all.is_empty() {
                eprintln!(
                    "no baselines in {}; save one with `loopbench baseline save NAME RUN`",
                    baseline::baselines_dir(results).display()
                );
                return Ok(());
            }
            let mut rows = vec![
                ["name", "runs", "cases", "saved", "git revision"]
                    .map(String::from)
                    .to_vec(),
            ];
            rows.extend(all.iter().map(describe));
            print(&crate::text::columns(
                &rows,
                &[false, true, true, false, false],
            ))
        }),
    };
    // Whatever stops a baseline from being saved or listed is about the runs or the directory
    // given: exit 2, with the message of what failed.
    result.map_err(|e| {
        if crate::error::is_usage_error(&e) || super::output::is_broken_pipe(&e) {
            e
        } else {
            crate::error::UsageError(format!("{e:#}")).into()
        }
    })?;
    Ok(ExitCode::SUCCESS)
}
