//! `loopbench iface`: the loopback interfaces, their addresses, and what is reachable.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::output::print;
use crate::loopback::iface;

/// Show the loopback interfaces and which addresses are usable.
///
/// Lists every interface with IFF_LOOPBACK, its state, MTU and addresses (with labels such as
/// lo:0), and which of 127.0.0.0/8 is usable without adding an alias, checked by binding.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  loopbench iface\n  loopbench iface --json | jq '.reachable_v4'"
)]
pub struct IfaceArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs the command.
pub fn execute(args: IfaceArgs) -> Result<ExitCode> {
    let report = iface::report()?;
    if args.json {
        print(&(serde_json::to_string_pretty(&report)? + "\n"))?;
    } else {
        print(&report.render())?;
    }
    Ok(ExitCode::SUCCESS)
}
