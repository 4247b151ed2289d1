//! What every measuring command (`run`, `client`, `suite`) does around the measurement: run it
//! with a progress display and Ctrl-C handling, print the result, write the report, and turn the
//! outcome into the exit code.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;

use super::args::OutputArgs;
use super::exit::{EXIT_CASE_FAILED, EXIT_INTERRUPTED};
use super::format_args::FormatArgs;
use super::history::{after_run, before_run};
use super::interrupt;
use super::progress::Progress;
use super::run_rendering::RunRendering;
use super::trust_args::TrustArgs;
use crate::report::table;
use crate::run::session::{RunRequest, RunResult, run};
use crate::run::turns::Turns;
use crate::spec::Spec;
use crate::store::record::RunRecord;

/// Runs `specs`, stores the run and prints it in the chosen format (the table by default);
/// shared by `run` and `client`.
pub fn measure(
    specs: Vec<Spec>,
    output: &OutputArgs,
    trust: &TrustArgs,
    formats: &FormatArgs,
    command_line: Vec<String>,
) -> Result<ExitCode> {
    let request = RunRequest {
        specs,
        seed: output.seed,
        interleave: !output.no_interleave,
        suite: None,
        label: output.label.clone(),
        command_line,
        results_dir: Some(output.results.output.clone()),
        no_canary: trust.no_canary,
        precision: trust.precision()?,
        ..RunRequest::default()
    };
    measure_request(request, output, formats, |record| {
        for note in crate::report::case_notes(record) {
            eprintln!("note: {note}");
        }
        table::render(record)
    })
}

/// Measures `request`, prints the run in the chosen format (`table` makes the table), writes
/// the `--export-*` files, and finishes (see [`finish`]); shared by `run`, `client` and `suite`.
pub fn measure_request(
    mut request: RunRequest,
    output: &OutputArgs,
    formats: &FormatArgs,
    table: impl Fn(&RunRecord) -> String,
) -> Result<ExitCode> {
    formats.check()?;
    request.turns = Turns::from_env()?.map(Arc::new);
    before_run(&output.history, output.results.dir())?;
    let interrupted = interrupt::install();
    let result = run(request, &mut Progress::new(output.quiet), interrupted)?;
    let mut run = RunRendering::new(result.dir.as_deref(), &result.record);
    formats.emit(|rendering| run.render(rendering, &table))?;
    let code = finish(&result, output.quiet, !output.no_report)?;
    if result.dir.is_some() && !result.record.interrupted {
        after_run(&output.history, output.results.dir(), &result, output.quiet)?;
    }
    Ok(code)
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
            if let Err(e) = write_report(dir, quiet) {
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

/// Writes the report of the run in `dir` and, unless `quiet`, says where report.html is.
fn write_report(dir: &Path, quiet: bool) -> Result<Vec<PathBuf>> {
    let written = crate::report::generate(dir)?;
    if !quiet {
        if let Some(html) = written.first() {
            eprintln!("report: {}", html.display());
        }
    }
    Ok(written)
}
