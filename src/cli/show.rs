//! `loopbench show`: a stored run's tables on the terminal, or one case in detail.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::args::ResultsArg;
use super::format_args::{FormatArgs, Rendering};
use super::run_rendering::RunRendering;
use crate::error::UsageError;
use crate::report::stage_table;
use crate::report::table::{iterations, percentiles};
use crate::report::terminal::run_text;
use crate::report::trust::iterations_trust;
use crate::spec::IterationLength;
use crate::store::find::{LATEST, load};
use crate::store::record::{CaseRecord, RunRecord};
use crate::text::align;

/// Print a stored run's tables, or one case's percentiles and iterations.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  loopbench show
  loopbench show latest tcp4-rr-blocking-cross-core-64B
  loopbench show 20261127T192130Z-1f0e
  loopbench show results/runs/20261127T192130Z-1f0e shm-rr-spin
  loopbench show latest | head
  loopbench show latest --format markdown --export-csv run.csv
  loopbench show latest tcp4-rr-blocking-cross-core-64B --json

RUN is a run directory, its run.json, `latest`, a run id under --output/runs or a unique
start of one, or a saved baseline of one run; CASE is a case id or any part of one that names
a single case. --format json prints run.json (with CASE: that case's record); markdown and
CSV are the report's summary.md and summary.csv.
Exit codes: 0 ok, 2 no such run or case.")]
pub struct ShowArgs {
    /// The run: a run directory, a run.json, `latest`, a run id or a unique start of one.
    #[arg(default_value = LATEST, value_name = "RUN")]
    run: String,
    /// One case to show in detail: its id, or a part of it that matches only it.
    #[arg(value_name = "CASE")]
    case: Option<String>,
    #[command(flatten)]
    results: ResultsArg,
    #[command(flatten)]
    formats: FormatArgs,
}

/// The case `what` names: its exact id, or the only case whose id contains it.
pub fn find_case<'a>(record: &'a RunRecord, what: &str) -> Result<&'a CaseRecord> {
    if let Some(c) = record.cases.iter().find(|c| c.case_id.as_str() == what) {
        return Ok(c);
    }
    let matches: Vec<&CaseRecord> = record
        .cases
        .iter()
        .filter(|c| c.case_id.as_str().contains(what))
        .collect();
    let ids = |cs: &[&CaseRecord]| {
        cs.iter()
            .map(|c| c.case_id.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(UsageError(format!(
            "run {} has no case matching '{what}'; its cases are: {}",
            record.run_id,
            ids(&record.cases.iter().collect::<Vec<_>>())
        ))
        .into()),
        many => Err(UsageError(format!(
            "'{what}' matches {} cases: {}; give more of the id",
            many.len(),
            ids(many)
        ))
        .into()),
    }
}

fn case_text(r: &RunRecord, c: &CaseRecord) -> String {
    let s = &c.spec;
    let length = match s.timing.length {
        IterationLength::Duration { duration_ns } => {
            format!("{:?}", std::time::Duration::from_nanos(duration_ns))
        }
        IterationLength::Count { messages } => format!("{messages} messages"),
    };
    let cpus = |v: &[usize]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            format!("{v:?}")
        }
    };
    let mut out = format!(
        "{} (run {})\n{} {} {} {}: {} B requests, {} responses; {} iterations of {length}; CPUs client {} server {}\n\n",
        c.case_id,
        r.run_id,
        s.transport,
        s.workload,
        s.engine,
        s.placement,
        s.size,
        match (
            &s.framing.protocol,
            &s.framing.length_prefix,
            &s.framing.response_delimiter
        ) {
            (crate::spec::framing::Protocol::Http1, _, _) => "HTTP/1-framed".to_string(),
            (_, Some(p), _) => format!("{p}-prefixed"),
            (_, None, Some(_)) => "delimited".to_string(),
            _ => format!("{} B", s.response_size),
        },
        s.timing.iterations,
        cpus(&c.requested_cpus.client),
        cpus(&c.requested_cpus.server),
    );
    let (h, rows) = percentiles(c);
    if !rows.is_empty() {
        out.push_str(&align(&h, &rows));
        out.push('\n');
    }
    if let Some(t) = crate::report::service::service_table(c) {
        if !t.rows.is_empty() {
            out.push_str(&align(&t.header, &t.rows));
        }
        for l in &t.lines {
            let _ = writeln!(out, "{l}");
        }
        out.push('\n');
    }
    let (h, rows) = iterations(c);
    out.push_str(&align(&h, &rows));
    if let Some((h, rows)) = iterations_trust(c) {
        out.push_str("\ncanary (p50 of each probe) and interference per iteration\n");
        out.push_str(&align(&h, &rows));
    }
    if let Some((h, rows)) = stage_table::detail(c) {
        let _ = write!(out, "\n{}\n{}", stage_table::TITLE, align(&h, &rows));
    }
    if let Some(line) = stage_table::coverage(c) {
        let _ = writeln!(out, "{line}");
    }
    if let Some(t) = stage_table::typical(c) {
        let _ = write!(out, "\n{t}");
    }
    for e in &c.errors {
        let _ = writeln!(out, "error: {e}");
    }
    for n in &c.notes {
        let _ = writeln!(out, "note: {n}");
    }
    for f in [&c.files.hgrm, &c.files.hlog].into_iter().flatten() {
        let _ = writeln!(out, "file: {f}");
    }
    out
}

/// Runs the command.
pub fn execute(args: ShowArgs) -> Result<ExitCode> {
    args.formats.check()?;
    let (dir, record) = load(&args.run, args.results.dir())?;
    match &args.case {
        Some(what) => {
            let case = find_case(&record, what)?;
            args.formats.emit(|rendering| match rendering {
                Rendering::Table => Ok(case_text(&record, case)),
                Rendering::Json => Ok(serde_json::to_string_pretty(case)? + "\n"),
                Rendering::Markdown | Rendering::Csv => Err(UsageError(
                    "with CASE, show prints a table or JSON; drop CASE for the run's markdown \
                     or CSV"
                        .into(),
                )
                .into()),
            })?;
        }
        None => {
            let mut run = RunRendering::new(Some(&dir), &record);
            args.formats
                .emit(|rendering| run.render(rendering, &run_text))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
