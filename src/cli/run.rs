//! `loopbench run`: measure a matrix of cases and store the run.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::args::{CaseArgs, OutputArgs, TimingArgs, case_options};
use super::output::print;
use super::progress::Progress;
use super::workload_args::WorkloadArgs;
use super::{EXIT_CASE_FAILED, EXIT_INTERRUPTED, interrupt};
use crate::host::topology::Topology;
use crate::report::table;
use crate::run::session::{RunRequest, RunResult, run};
use crate::store::record::RunRecord;

/// Measure a matrix of cases and store the run.
///
/// Results go to results/runs/<run-id>/: run.json, per case latency.hgrm and latency.hlog, and the
/// report (summary.md, summary.csv, plots/*.svg, report.html).
/// Every dimension flag takes a comma list; lists expand to a matrix whose iterations run
/// interleaved in a shuffled order, each on a fresh connection pair.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  loopbench run
  loopbench run --transport tcp4,udp4,unix-stream --size 64,1024 --placement same-core,cross-core
  loopbench run -t shm,pipe,tcp4 -e blocking,spin -n 10 -d 500ms
  loopbench run -t tcp4 --addr 127.0.0.2 --client-addr 127.0.0.3 --json > run.json
  loopbench run -w stream -s 128KiB -t tcp4,unix-stream
  loopbench run -w crr -t tcp4 --spread 127.0.0.2-127.0.0.50 -d 60s -n 1
  loopbench run -w rate --rate 20000 -t tcp4,udp4 -e blocking,epoll
  loopbench run -e epoll --flows 1000 -t tcp4 -c 100
  loopbench run --flows 2 --threads 2 --client-cpus 0,1 --server-cpus 1,0
  loopbench run -e blocking,spin,epoll,tokio,tokio-mt -t tcp4,udp4 -p same-core,cross-core
  loopbench run -w stream -s 64KiB --memory-load 1 -p same-core
  loopbench run --processes -t tcp4,unix-stream

Exit codes: 0 ok, 1 a case failed (the rest is still stored), 2 bad input, 130 interrupted.")]
pub struct RunArgs {
    #[command(flatten)]
    case: CaseArgs,
    #[command(flatten)]
    workload: WorkloadArgs,
    #[command(flatten)]
    timing: TimingArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Print run.json to stdout instead of the table.
    #[arg(long)]
    json: bool,
}

/// Runs the command.
pub fn execute(args: RunArgs, command_line: Vec<String>) -> Result<ExitCode> {
    let topology = Topology::detect();
    let options = case_options(&args.case, &args.timing, &args.workload);
    let specs = crate::workload::expand(&options.matrix(topology.default_placement())?)?;
    measure(specs, &args.output, args.json, command_line)
}

/// Runs `specs`, stores the run and prints the table (or run.json with `json`); shared by
/// `run` and `client`.
pub(super) fn measure(
    specs: Vec<crate::spec::Spec>,
    output: &OutputArgs,
    json: bool,
    command_line: Vec<String>,
) -> Result<ExitCode> {
    let request = RunRequest {
        specs,
        seed: output.seed,
        interleave: !output.no_interleave,
        suite: None,
        label: output.label.clone(),
        command_line,
        results_dir: Some(output.output.clone()),
    };
    measure_request(request, output, |record| {
        for note in crate::report::case_notes(record) {
            eprintln!("note: {note}");
        }
        Ok(if json {
            serde_json::to_string_pretty(record)? + "\n"
        } else {
            table::render(record)
        })
    })
}

/// Measures `request`, prints what `render` makes of the run, and finishes (see [`finish`]);
/// shared by `run`, `client` and `suite`.
pub(super) fn measure_request(
    request: RunRequest,
    output: &OutputArgs,
    render: impl FnOnce(&RunRecord) -> Result<String>,
) -> Result<ExitCode> {
    let interrupted = interrupt::install();
    let result = run(request, &mut Progress::new(output.quiet), interrupted)?;
    print(&render(&result.record)?)?;
    finish(&result, output.quiet, !output.no_report)
}

/// The end of every measuring command: says where the run is, writes its report (unless
/// `report` is false), and turns the outcome into the exit code. A report that fails to write is
/// an error (exit 1) that leaves the measured run in place.
fn finish(result: &RunResult, quiet: bool, report: bool) -> Result<ExitCode> {
    let mut report_failed = false;
    if let Some(dir) = &result.dir {
        if !quiet {
            eprintln!("results: {}", dir.display());
        }
        if report {
            if let Err(e) = super::report::write(dir, quiet) {
                eprintln!(
                    "error: the run is stored, but writing its report failed: {e:#}; \
                     `loopbench report {}` tries again",
                    dir.display()
                );
                report_failed = true;
            }
        }
    }
    Ok(if result.record.interrupted {
        eprintln!(
            "interrupted: the cases finished so far are stored; the run is marked incomplete"
        );
        ExitCode::from(EXIT_INTERRUPTED)
    } else if result.has_errors() {
        for c in result.record.cases.iter().filter(|c| !c.errors.is_empty()) {
            eprintln!("error: case {}: {}", c.case_id, c.errors.join("; "));
        }
        ExitCode::from(EXIT_CASE_FAILED)
    } else if report_failed {
        ExitCode::from(EXIT_CASE_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}
