//! `loopbench suite`: run a curated matrix (a suite file) and write the run with its report.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::args::OutputArgs;
use super::format_args::FormatArgs;
use super::measure::measure_request;
use super::output::print;
use super::trust_args::TrustArgs;
use crate::host::topology::Topology;
use crate::report::terminal::run_text;
use crate::run::plan::Plan;
use crate::run::session::{RunRequest, check_stage_clock, preflight};
use crate::spec::{CaseId, IterationLength, Spec};
use crate::store::record::SkippedCases;
use crate::suite::{BUILTIN, DEFAULT_SUITE, Expanded, Suite};
use crate::text::align;

/// Run a curated suite and write the run with its report: what does loopback cost here, and why?
///
/// `quick` (the default, about a minute on 2 CPUs) measures 64 B round trips over shm (the floor),
/// pipe, unix-stream, udp4 and tcp4, at same-core and cross-core, with blocking and spinning
/// waits, and decomposes them in the loopback anatomy chart; its blocking unix-stream, udp4
/// and tcp4 round trips are stamped (--stages), and traced too (--trace) when run as root. `standard` and `full` widen
/// transports, sizes, placements and repetitions. Suites are TOML files (see suites/ in the
/// source); --suite-file runs your own. Placements this machine cannot satisfy are skipped with
/// the reason.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  loopbench suite
  loopbench suite standard -o /srv/loopbench-results
  loopbench suite --list
  loopbench suite full --dry-run
  loopbench suite --format json --export-markdown summary.md > run.json
  loopbench suite --suite-file my-suite.toml --label after-sysctl-change

A suite file has a [defaults] table and [[cases]] tables; each [[cases]] table is a matrix in the
command line's spellings and takes what it does not set from [defaults]:
  [defaults]
  iterations = 5
  duration = \"500ms\"
  [[cases]]
  transport = [\"pipe\", \"tcp4\"]
  engine = [\"blocking\", \"spin\"]
  placement = \"cross-core\"
  size = [64, \"16KiB\"]
Keys: every `loopbench run` option, spelled with `_` for `-` (transport, workload, engine,
placement, size, response_size, flows, threads, rate, spread, sndbuf, iterations, duration,
count, warmup, timeout, ...), each a value or a list where the flag takes a list, plus note
(free text shown by --list). An unknown key is an error that names it.

Exit codes: 0 ok, 1 a case failed (the rest is still stored), 2 bad input, 130 interrupted.")]
pub struct SuiteArgs {
    /// The built-in suite to run: quick, standard or full [default: quick].
    #[arg(value_name = "SUITE", conflicts_with = "suite_file")]
    name: Option<String>,
    /// Run the suite in this TOML file instead of a built-in one.
    #[arg(long, value_name = "PATH")]
    suite_file: Option<PathBuf>,
    /// List the built-in suites (cases on this machine, estimated time) and exit.
    #[arg(long)]
    list: bool,
    /// Print the cases the suite would run, and the estimated time, without running them.
    #[arg(long)]
    dry_run: bool,
    /// Run as root, the suite traces its stamped cases too (`--trace`, kernel stages): this
    /// leaves them untraced.
    #[arg(long)]
    no_trace: bool,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    trust: TrustArgs,
    #[command(flatten)]
    formats: FormatArgs,
}

/// Estimated run time in seconds and whether count-based iterations come on top.
fn estimate(plan: &Plan) -> String {
    let secs = plan.estimated_duration().as_secs_f64();
    let counted = plan
        .cases
        .iter()
        .any(|c| matches!(c.spec.timing.length, IterationLength::Count { .. }));
    format!(
        "about {:.0} s of measuring{}",
        secs,
        if counted {
            " plus the count-based iterations"
        } else {
            ""
        }
    )
}

/// The built-in suites, their cases and time here; `traced`: the suite runs as root with the
/// tracer, so its stamped cases get traced twins (counted, and said so; without it, how many a
/// root run would add).
fn list(topology: &Topology, traced: bool) -> Result<String> {
    let mut rows = Vec::new();
    for (name, _) in BUILTIN {
        let suite = Suite::builtin(name)?;
        let mut expanded = suite.expand(topology)?;
        let twins = if traced {
            expanded.trace_stamped()
        } else {
            expanded.clone().trace_stamped()
        };
        let specs = expanded.specs;
        let (cases, time) = match Plan::new(specs, topology, 0, true) {
            Ok(plan) => {
                let n = plan.cases.len();
                let cases = match (twins, traced) {
                    (0, _) => n.to_string(),
                    (t, true) => format!("{n} (incl. {t} traced twins: root)"),
                    (t, false) => format!("{n} (+{t} traced twins as root)"),
                };
                (cases, estimate(&plan))
            }
            Err(e) => ("0".into(), format!("cannot run here: {e}")),
        };
        rows.push(vec![name.to_string(), cases, time, suite.description]);
    }
    Ok(align(
        &["suite", "cases", "time on this machine", "what it answers"],
        &rows,
    ))
}

fn dry_run(suite: &Suite, plan: &Plan) -> String {
    let mut out = format!(
        "suite {}: {} cases, {}\n",
        suite.name,
        plan.cases.len(),
        estimate(plan)
    );
    for n in suite.notes() {
        let _ = writeln!(out, "  - {n}");
    }
    for c in &plan.cases {
        let t = &c.spec.timing;
        let length = match t.length {
            IterationLength::Duration { duration_ns } => format!("{} ms", duration_ns / 1_000_000),
            IterationLength::Count { messages } => format!("{messages} messages"),
        };
        let _ = writeln!(
            out,
            "{}  {} × {length}, warm-up {} ms",
            c.case_id,
            t.iterations,
            t.warmup_ns / 1_000_000
        );
    }
    out
}

/// Runs the command.
pub fn execute(args: SuiteArgs, command_line: Vec<String>) -> Result<ExitCode> {
    let topology = Topology::detect();
    if args.list {
        let traced = nix::unistd::geteuid().is_root() && !args.no_trace;
        print(&list(&topology, traced)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let suite = match &args.suite_file {
        Some(path) => Suite::from_file(path)?,
        None => Suite::builtin(args.name.as_deref().unwrap_or(DEFAULT_SUITE))?,
    };
    let expanded = suite.expand(&topology)?;
    let mut skipped: Vec<SkippedCases> = expanded.skipped.iter().map(|s| s.record()).collect();
    let mut expanded = Expanded {
        skipped: Vec::new(),
        ..expanded
    };
    skipped.extend(stamp_where_possible(&mut expanded, &topology, |plan| {
        check_stage_clock(plan, &topology).map(|_| ())
    })?);
    if nix::unistd::geteuid().is_root() && !args.no_trace {
        let untraced: Vec<CaseId> = expanded.specs.iter().map(Spec::case_id).collect();
        let traced = expanded.trace_stamped();
        if traced > 0 {
            match trace_where_possible(&mut expanded, &untraced, &topology, |plan| {
                preflight(plan).map(|_| ())
            })? {
                None => eprintln!(
                    "note: running as root, so the suite's {traced} stamped case(s) also run \
                     traced (--trace: kernel stages, and the tracer's cost against the untraced \
                     twin); --no-trace leaves them out"
                ),
                Some(left_out) => skipped.push(left_out),
            }
        }
    }
    for s in &skipped {
        eprintln!("warning: {s}");
    }
    let seed = args.output.seed.unwrap_or_else(rand::random);
    if args.dry_run {
        let plan = Plan::new(expanded.specs, &topology, seed, !args.output.no_interleave)?;
        print(&dry_run(&suite, &plan))?;
        return Ok(ExitCode::SUCCESS);
    }
    let request = RunRequest {
        specs: expanded.specs,
        seed: Some(seed),
        interleave: !args.output.no_interleave,
        suite: Some(suite.name.clone()),
        label: args.output.label.clone(),
        command_line,
        results_dir: Some(args.output.results.output.clone()),
        no_canary: args.trust.no_canary,
        precision: args.trust.precision()?,
        skipped,
        turns: None,
    };
    measure_request(request, &args.output, &args.formats, run_text)
}

/// A suite's stamped cases (`stages = true`) run only where their stamps can be subtracted: when
/// this machine's clocks fail the check, they are left out (and said so) rather than failing the
/// suite, whose other cases do not need the check.
fn stamp_where_possible(
    expanded: &mut Expanded,
    topology: &Topology,
    check_clocks: impl FnOnce(&Plan) -> Result<()>,
) -> Result<Option<SkippedCases>> {
    leave_out_unless(
        expanded,
        topology,
        |s| s.instrument.stages,
        check_clocks,
        "",
    )
}

/// The traced twins a root suite adds (the cases not in `untraced`) run only where the tracer
/// opens: when it does not (no tracefs, a tracepoint missing, perf events refused), they are
/// left out and said so.
fn trace_where_possible(
    expanded: &mut Expanded,
    untraced: &[CaseId],
    topology: &Topology,
    open_tracer: impl FnOnce(&Plan) -> Result<()>,
) -> Result<Option<SkippedCases>> {
    let is_twin = |s: &Spec| !untraced.contains(&s.case_id());
    let why = "the tracer cannot run here: ";
    leave_out_unless(expanded, topology, is_twin, open_tracer, why)
}

/// Leaves the cases that are `part` of an optional instrument out of `expanded` when `check`
/// refuses them (planned on their own); returns them with the refusal after `why`.
fn leave_out_unless(
    expanded: &mut Expanded,
    topology: &Topology,
    part: impl Fn(&Spec) -> bool,
    check: impl FnOnce(&Plan) -> Result<()>,
    why: &str,
) -> Result<Option<SkippedCases>> {
    let specs: Vec<Spec> = expanded.specs.iter().filter(|s| part(s)).cloned().collect();
    if specs.is_empty() {
        return Ok(None);
    }
    let plan = Plan::new(specs, topology, 0, false)?;
    let Err(refusal) = check(&plan) else {
        return Ok(None);
    };
    expanded.specs.retain(|s| !part(s));
    Ok(Some(SkippedCases {
        placement: None,
        reason: format!("{why}{refusal:#}"),
        cases: plan.cases.iter().map(|c| c.case_id.to_string()).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> (Expanded, Topology) {
        let topology = Topology::detect();
        let expanded = Suite::builtin("quick").unwrap().expand(&topology).unwrap();
        (expanded, topology)
    }

    #[test]
    fn stamped_cases_are_left_out_and_named_when_the_clocks_fail_their_check() {
        let (mut expanded, topology) = quick();
        let stamped = expanded
            .specs
            .iter()
            .filter(|s| s.instrument.stages)
            .count();
        let total = expanded.specs.len();
        assert!(stamped > 0, "the quick suite stamps some cases");
        let left_out = stamp_where_possible(&mut expanded, &topology, |_| {
            Err(anyhow::anyhow!("clocksource is jiffies"))
        })
        .unwrap()
        .expect("left out");
        assert_eq!(left_out.cases.len(), stamped);
        assert!(left_out.reason.contains("jiffies"), "{left_out}");
        assert_eq!(expanded.specs.len(), total - stamped);
        assert!(expanded.specs.iter().all(|s| !s.instrument.stages));
        // Clocks that pass keep every case.
        let (mut expanded, topology) = quick();
        assert!(
            stamp_where_possible(&mut expanded, &topology, |_| Ok(()))
                .unwrap()
                .is_none()
        );
        assert_eq!(expanded.specs.len(), total);
    }

    #[test]
    fn traced_twins_are_left_out_when_the_tracer_cannot_open_and_the_rest_stays() {
        let (mut expanded, topology) = quick();
        let untraced: Vec<CaseId> = expanded.specs.iter().map(Spec::case_id).collect();
        let twins = expanded.trace_stamped();
        assert!(twins > 0);
        let left_out = trace_where_possible(&mut expanded, &untraced, &topology, |_| {
            Err(anyhow::anyhow!("tracefs is not mounted"))
        })
        .unwrap()
        .expect("left out");
        assert_eq!(left_out.cases.len(), twins);
        assert!(
            left_out
                .reason
                .starts_with("the tracer cannot run here: tracefs")
        );
        let now: Vec<CaseId> = expanded.specs.iter().map(Spec::case_id).collect();
        assert_eq!(now, untraced);
    }
}
