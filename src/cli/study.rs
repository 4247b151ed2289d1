//! `loopbench study`: run a study file's variants in private network namespaces, in shuffled
//! rounds, and compare them; `--restore` puts back host settings after a crash; `--report`
//! re-renders a study's report.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;

use super::args::ResultsArg;
use super::exit::{EXIT_CASE_FAILED, EXIT_INTERRUPTED};
use super::interrupt;
use super::output::print;
use super::trust_args::{max_time, parse_precision};
use crate::error::UsageError;
use crate::host::topology::Topology;
use crate::run::precision::PrecisionRequest;
use crate::study::execute::{StudyOptions, execute, prepare};
use crate::study::file::StudyFile;
use crate::study::journal;
use crate::study::record::RunStatus;

/// Run a tuning study: the same cases under several variants of kernel settings.
///
/// Every variant runs in a fresh private network namespace (lo, its MTU, offloads and qdisc, and
/// /proc/sys/net are the namespace's own), so the host's settings are never touched. Each
/// setting is read back and a variant whose value did not take is refused before anything is
/// measured. Variants run in rounds, their order shuffled per round (seeded). Results go to
/// DIR/studies/<id>/: study.json, runs/<run-id>/ (run.json with the namespace's environment,
/// variant.json with the settings as read back and the host's environment), report.md and
/// report.html comparing every variant with the first one (the baseline).
///
/// Host-wide settings need --allow-host-changes: sysctls with no per-namespace copy from an
/// allowlist of network and latency settings (such as net.core.busy_poll or
/// net.core.netdev_max_backlog, and kernel.sched_*; any other, such as kernel.core_pattern, is
/// refused with the list), cpu_dma_latency_us, idle_disable (cpuidle
/// states by name, or "deepest", on the workers' CPUs or idle_cpus = "all"), haltpoll (guest
/// haltpoll parameters), sched (scheduler tunables by their file's name) and thp. The previous
/// values are written to a journal first and restored on exit, error, panic and Ctrl-C;
/// `loopbench study --restore` restores them after a crash, and no study runs until it has. A knob this machine does not have
/// refuses the study before anything runs (exit 2), naming the file it looked for.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  loopbench study studies/lo-mtu.toml
  loopbench study studies/tcp-buffers.toml --rounds 5 --seed 1 -o results
  loopbench study studies/lo-mtu.toml --dry-run
  loopbench study studies/lo-mtu.toml --precision 2% --max-time 20m
  loopbench study --restore
  loopbench study --report results/studies/20261127T183705Z-4f2a-lo-mtu

Exit codes: 0 ok, 1 a run or case failed (the rest is stored), 2 bad study file or a variant
that cannot be applied (nothing measured), 130 interrupted.")]
pub struct StudyArgs {
    /// The study file (TOML; see studies/*.toml).
    #[arg(required_unless_present_any = ["restore", "report"])]
    file: Option<PathBuf>,
    /// Rounds [default: the file's `rounds`, else 3].
    #[arg(long, short = 'r')]
    rounds: Option<u32>,
    #[command(flatten)]
    results: ResultsArg,
    /// Seed of the shuffled round order (recorded in study.json).
    #[arg(long)]
    seed: Option<u64>,
    /// Allow variants to change host-wide settings (journaled and restored).
    #[arg(long)]
    allow_host_changes: bool,
    /// Change the host even while tuned or irqbalance is running.
    #[arg(long)]
    force: bool,
    /// The host-change journal [default: /run/loopbench/host-changes.json].
    #[arg(long, value_name = "PATH")]
    journal: Option<PathBuf>,
    /// Check the file and apply every variant in a throwaway namespace; measure nothing.
    #[arg(long)]
    dry_run: bool,
    /// Restore host settings from the journal of a study that did not finish.
    #[arg(long, conflicts_with_all = ["file", "report", "dry_run"])]
    restore: bool,
    /// Re-render report.md and report.html of an existing study directory.
    #[arg(long, value_name = "STUDY_DIR", conflicts_with_all = ["file", "dry_run"])]
    report: Option<PathBuf>,
    /// Keep adding rounds (each runs every variant once) until every variant's main figure (p50;
    /// stream: throughput) has a 95 % interval of its ratio to the baseline within ±PCT (e.g.
    /// 2%), after at least 5 rounds, or until --max-time is spent; --rounds is then the least.
    /// study.json and the report say what each case reached.
    #[arg(long, value_name = "PCT", conflicts_with_all = ["restore", "report"])]
    precision: Option<String>,
    /// With --precision: the most time all rounds together may take [default: 10m].
    #[arg(long, value_name = "DURATION", requires = "precision")]
    max_time: Option<String>,
    /// Take no drift canary before each iteration of the variants' runs (interference is still
    /// accounted).
    #[arg(long, conflicts_with_all = ["restore", "report"])]
    no_canary: bool,
    /// No progress on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// Runs the command.
pub fn execute_cmd(args: StudyArgs, command_line: Vec<String>) -> Result<ExitCode> {
    let journal_path = args.journal.clone().unwrap_or_else(journal::default_path);
    if args.restore {
        for line in journal::restore_from(&journal_path)? {
            print(&format!("{line}\n"))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(dir) = &args.report {
        if !dir.join("study.json").is_file() {
            bail!(UsageError(format!(
                "{} has no study.json: give a directory under results/studies/",
                dir.display()
            )));
        }
        crate::study::report::write(dir)?;
        print(&format!("{}\n", dir.join("report.md").display()))?;
        return Ok(ExitCode::SUCCESS);
    }
    let file = args.file.clone().expect("clap requires FILE");
    let study = StudyFile::load(&file, &Topology::detect())?;
    let opts = StudyOptions {
        file: Some(file),
        rounds: args.rounds,
        output: args.results.output.clone(),
        seed: args.seed,
        allow_host_changes: args.allow_host_changes,
        force: args.force,
        journal: journal_path,
        exe: std::env::current_exe()?,
        command_line,
        precision: match &args.precision {
            Some(p) => Some(PrecisionRequest {
                target_rel: parse_precision(p)?,
                max_time: max_time(args.max_time.as_deref())?,
            }),
            None => None,
        },
        no_canary: args.no_canary,
    };
    let prepared = prepare(&study, &opts)?;
    if args.dry_run {
        for line in &prepared.checks {
            print(&format!("{line}\n"))?;
        }
        print("dry run: nothing measured\n")?;
        return Ok(ExitCode::SUCCESS);
    }
    let interrupted = interrupt::install_patient();
    let quiet = args.quiet;
    let (dir, record) = execute(&study, &prepared, &opts, interrupted, &mut |line| {
        if !quiet {
            eprintln!("{line}");
        }
    })?;
    print(&std::fs::read_to_string(dir.join("report.md"))?)?;
    if !quiet {
        eprintln!("results: {}", dir.display());
    }
    if let Some(d) = record.host_differences.as_ref().filter(|d| !d.is_empty()) {
        eprintln!(
            "warning: the host's network settings changed during the study: {}",
            d.join("; ")
        );
    }
    Ok(if record.interrupted {
        eprintln!("interrupted: the runs finished so far are stored and in the report");
        ExitCode::from(EXIT_INTERRUPTED)
    } else if record.runs.iter().any(|r| r.status != RunStatus::Done) {
        ExitCode::from(EXIT_CASE_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}
