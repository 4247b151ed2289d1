//! `loopbench ab --base-cmd ... --new-cmd ...`: two configurations interleaved in one job, then
//! compared with the gate.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::args::ResultsArg;
use super::exit::EXIT_INTERRUPTED;
use super::gate_args::{GateArgs, METHOD, as_usage};
use super::interrupt;
use super::trust_args::{max_time, parse_precision};
use crate::compare::ab::{AbPrecision, AbRequest, Arm, Interleave, run_ab, side_dir};
use crate::compare::input::load_side;
use crate::compare::output::{Format, render};
use crate::compare::{Comparison, ComparisonPrecision, compare};
use crate::error::Interrupted;
use crate::spec::parse_duration;
use crate::store::{new_run_id, write_atomic};

/// Run two commands interleaved (randomized order, same machine) and compare their runs.
///
/// Each of --rounds rounds runs both commands once. By default (--interleave iterations) they
/// start together and take turns: one iteration (or warm-up) of one, then one of the other, in a
/// random order per pair of turns, so every NEW iteration has a BASE iteration measured next to
/// it and the two are compared pair by pair; with --interleave runs they run one after the other,
/// in a random order, and are compared round by round. Each command runs under
/// `sh -c` with LOOPBENCH_OUTPUT set to its side's directory (the default of `loopbench run
/// --output`); `{out}` in a command is replaced by that directory. All rounds of one side are
/// pooled as that side's samples and compared as `loopbench compare` does (same options). The
/// session (runs, logs, ab.json, comparison.md, comparison.json) is kept in DIR/ab/<id>/.
#[derive(Debug, Args)]
#[command(after_help = format!("{}\n\n{}", METHOD, "\
Examples:
  loopbench ab --base-cmd 'loopbench run -t tcp4 -n 3' \\
      --new-cmd 'loopbench run -t tcp4 -n 3 --sndbuf 1M' \\
      --pair=tcp4-rr-blocking-cross-core-64B=tcp4-rr-blocking-cross-core-64B-snd1048576
  loopbench ab --rounds 8 --format markdown \\
      --base-cmd './base/loopbench run -t tcp4,unix-stream -n 3 -o {out}' \\
      --new-cmd './new/loopbench run -t tcp4,unix-stream -n 3 -o {out}'
  loopbench ab --interleave runs --rounds 6 \\
      --base-cmd './v0.1.0/loopbench run -t tcp4 -n 3 -o {out}' \\
      --new-cmd './target/release/loopbench run -t tcp4 -n 3 -o {out}'
  loopbench ab --precision 2% --max-time 3m --threshold 2 \\
      --base-cmd 'loopbench run -n 3 -d 300ms' \\
      --new-cmd 'LOOPBENCH_INJECT_SERVER_DELAY=2us loopbench run -n 3 -d 300ms'

Exit codes: 0 no regression, 1 regression, 2 usage error or a command failed, 130 interrupted."))]
pub struct AbArgs {
    /// The base command (a shell command line that runs `loopbench run`).
    #[arg(long, value_name = "CMD")]
    base_cmd: String,
    /// The new command.
    #[arg(long, value_name = "CMD")]
    new_cmd: String,
    /// Rounds; each runs both commands once in a random order (with --precision: the minimum).
    #[arg(long, default_value_t = 6, value_name = "K")]
    rounds: u32,
    /// How the two commands of a round share the machine: `iterations` (both started together,
    /// taking turns iteration by iteration; needs `loopbench run`/`suite` of a build that takes
    /// turns) or `runs` (one whole run after the other: any command, any build).
    #[arg(long, default_value = "iterations", value_parser = ["iterations", "runs"], value_name = "HOW")]
    interleave: String,
    /// Keep adding rounds until every compared case's p50 ratio (throughput without latency) has
    /// a confidence interval within ±PCT (e.g. 2%), or --max-time is spent.
    #[arg(long, value_name = "PCT")]
    precision: Option<String>,
    /// With --precision: the most time all rounds may take [default: 10m].
    #[arg(long, value_name = "DURATION", requires = "precision")]
    max_time: Option<String>,
    /// Seed of the order within rounds [default: random; recorded in ab.json].
    #[arg(long)]
    schedule_seed: Option<u64>,
    /// Longest one command may run before it is killed.
    #[arg(long, default_value = "10m", value_name = "DURATION")]
    command_timeout: String,
    #[command(flatten)]
    results: ResultsArg,
    /// No progress on stderr.
    #[arg(long, short = 'q')]
    quiet: bool,
    #[command(flatten)]
    gate: GateArgs,
}

/// Runs the command.
pub fn execute(args: AbArgs) -> Result<ExitCode> {
    match run(&args) {
        Err(e) if e.chain().any(|c| c.downcast_ref::<Interrupted>().is_some()) => {
            eprintln!("interrupted: the runs finished so far are kept");
            Ok(ExitCode::from(EXIT_INTERRUPTED))
        }
        other => other.map_err(as_usage),
    }
}

fn run(args: &AbArgs) -> Result<ExitCode> {
    args.gate.options()?;
    if args.rounds == 0 {
        return Err(
            crate::error::ConfigError::Invalid("--rounds must be at least 1".into()).into(),
        );
    }
    let dir = args
        .results
        .dir()
        .join("ab")
        .join(new_run_id(std::time::SystemTime::now()));
    let precision = match &args.precision {
        Some(p) => Some(AbPrecision {
            target_rel: parse_precision(p)?,
            max_time_ns: max_time(args.max_time.as_deref())?.as_nanos() as u64,
        }),
        None => None,
    };
    let request = AbRequest {
        base_cmd: args.base_cmd.clone(),
        new_cmd: args.new_cmd.clone(),
        rounds: args.rounds,
        seed: args.schedule_seed.unwrap_or_else(rand::random),
        dir: dir.clone(),
        command_timeout: parse_duration(&args.command_timeout)?,
        interleave: if args.interleave == "runs" {
            Interleave::Runs
        } else {
            Interleave::Iterations
        },
        precision,
    };
    let interrupted = interrupt::install();
    let quiet = args.quiet;
    let rounds = args.rounds;
    if !quiet {
        eprintln!("ab session: {}", dir.display());
    }
    let side = |arm: Arm| vec![side_dir(&dir, arm).to_string_lossy().into_owned()];
    let compare_now = || -> Result<Comparison> {
        let base = load_side("BASE", &side(Arm::Base), args.results.dir())?;
        let new = load_side("NEW", &side(Arm::New), args.results.dir())?;
        compare(&base, &new, &args.gate.options()?)
    };
    let session = run_ab(
        &request,
        interrupted,
        &mut |inv| {
            if !quiet {
                eprintln!(
                    "round {}{}: {} ({:.1} s, run {})",
                    inv.round,
                    if precision.is_some() {
                        String::new()
                    } else {
                        format!("/{rounds}")
                    },
                    inv.arm.name(),
                    inv.seconds,
                    inv.runs.join(", ")
                );
            }
        },
        &mut |_| {
            let Some(p) = precision else { return Ok(true) };
            let cases = compare_now()?.precisions(p.target_rel);
            if !quiet {
                let widest = cases.iter().map(|c| c.half_width_rel).fold(0.0, f64::max);
                eprintln!(
                    "precision: widest interval ±{:.1} % (target ±{:.1} %)",
                    widest * 100.0,
                    p.target_rel * 100.0
                );
            }
            Ok(!cases.is_empty() && cases.iter().all(|c| c.reached))
        },
    )?;
    let mut comparison = compare_now()?;
    if let Some(p) = precision {
        comparison.precision = Some(ComparisonPrecision {
            target_rel: p.target_rel,
            rounds: (session.invocations.len() / 2) as u32,
            stopped: session.stopped.clone().unwrap_or_default(),
            cases: comparison.precisions(p.target_rel),
        });
    }
    let code = args.gate.print(&comparison)?;
    write_atomic(
        &dir.join("comparison.md"),
        render(&comparison, Format::Markdown).as_bytes(),
    )?;
    write_atomic(
        &dir.join("comparison.json"),
        render(&comparison, Format::Json).as_bytes(),
    )?;
    if !quiet {
        eprintln!(
            "session: {} (comparison.md, comparison.json)",
            dir.display()
        );
    }
    Ok(code)
}
