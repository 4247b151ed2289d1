//! `loopbench doctor`: check the machine before measuring.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::output::print;
use crate::doctor;

/// Check the machine before measuring, and explain each finding.
///
/// Checks loopback (up, MTU, offloads, qdisc), CPUs and topology, SMT, frequency governor and
/// cpuidle driver, virtualization, other busy processes, tuned/irqbalance, clock source and timer
/// cost, RLIMIT_NOFILE and the ephemeral port range. Each finding says what it means for loopback
/// measurements and what to do. Exits 0 even with warnings.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  loopbench doctor\n  loopbench doctor --json | jq '.findings[] | select(.level != \"ok\")'"
)]
pub struct DoctorArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs the command.
pub fn execute(args: DoctorArgs) -> Result<ExitCode> {
    let report = doctor::run();
    if args.json {
        print(&(serde_json::to_string_pretty(&report)? + "\n"))?;
    } else {
        print(&report.render())?;
    }
    Ok(ExitCode::SUCCESS)
}
