//! The hidden `loopbench __variant` subcommand: one run of a study variant, started by
//! `loopbench study` with the job on stdin. It unshares its own network namespace first.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use super::interrupt;
use super::output::print;
use crate::error::is_usage_error;
use crate::study::isolate::{EXIT_REFUSED, VariantJob, child_main};

/// Internal: run one study variant in a private network namespace (job as JSON on stdin).
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  (started by `loopbench study`; not for direct use)")]
pub struct VariantArgs {}

/// Runs the command.
pub fn execute(_args: VariantArgs) -> Result<ExitCode> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let job: VariantJob = serde_json::from_str(&input).context("reading the variant job")?;
    let interrupted = interrupt::install();
    match child_main(job, interrupted) {
        Ok(outcome) => {
            print(&(serde_json::to_string(&outcome)? + "\n"))?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            Ok(ExitCode::from(if is_usage_error(&e) {
                EXIT_REFUSED as u8
            } else {
                1
            }))
        }
    }
}
