//! The command line: clap definitions and one file per subcommand. `main.rs` only calls
//! [`main_with_args`].

mod ab;
mod alias;
mod args;
mod baseline;
mod client;
mod compare;
mod completions;
mod doctor;
mod exit;
mod format_args;
mod gate_args;
mod github;
mod history;
mod iface;
mod instrument_args;
mod interrupt;
mod list;
mod measure;
mod output;
mod progress;
mod report;
mod run;
mod run_rendering;
mod server;
mod show;
mod study;
mod suite;
mod trust_args;
mod variant;
mod workload_args;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::error::is_usage_error;
pub use exit::{EXIT_CASE_FAILED, EXIT_INTERRUPTED, EXIT_REGRESSION, EXIT_USAGE};

/// Measures what the Linux loopback path costs: TCP, UDP, Unix sockets, pipes and shared memory
/// between pinned workers, with HDR histograms, per-side CPU accounting and a regression gate.
#[derive(Debug, Parser)]
#[command(name = "loopbench", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Suite(Box<suite::SuiteArgs>),
    Run(Box<run::RunArgs>),
    Report(report::ReportArgs),
    List(list::ListArgs),
    Show(show::ShowArgs),
    Iface(iface::IfaceArgs),
    Study(Box<study::StudyArgs>),
    Alias(alias::AliasArgs),
    Doctor(doctor::DoctorArgs),
    #[command(name = "__variant", hide = true)]
    Variant(variant::VariantArgs),
    Server(Box<server::ServerArgs>),
    Client(Box<client::ClientArgs>),
    Compare(Box<compare::CompareArgs>),
    Baseline(baseline::BaselineArgs),
    Ab(Box<ab::AbArgs>),
    History(Box<history::HistoryArgs>),
    Completions(completions::CompletionsArgs),
    Man(completions::ManArgs),
}

/// Parses `args` (including the program name) and runs the command; prints `error: ...` with the
/// whole cause chain on failure.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    let command_line: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let result = match cli.command {
        Command::Suite(a) => suite::execute(*a, command_line),
        Command::Run(a) => run::execute(*a, command_line),
        Command::Report(a) => report::execute(a),
        Command::List(a) => list::execute(a),
        Command::Show(a) => show::execute(a),
        Command::Iface(a) => iface::execute(a),
        Command::Study(a) => study::execute_cmd(*a, command_line),
        Command::Alias(a) => alias::execute(a),
        Command::Doctor(a) => doctor::execute(a),
        Command::Variant(a) => variant::execute(a),
        Command::Server(a) => server::execute(*a),
        Command::Client(a) => client::execute(*a, command_line),
        Command::Compare(a) => compare::execute(*a),
        Command::Baseline(a) => baseline::execute(a),
        Command::Ab(a) => ab::execute(*a),
        Command::History(a) => history::execute(*a),
        Command::Completions(a) => completions::completions(a, Cli::command()),
        Command::Man(a) => completions::man(a, Cli::command()),
    };
    match result {
        Ok(code) => code,
        Err(e) if output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(if is_usage_error(&e) {
                EXIT_USAGE
            } else {
                EXIT_CASE_FAILED
            })
        }
    }
}
