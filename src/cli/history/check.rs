//! `loopbench history check`: change points in every series and the verdict on the newest
//! segment; exit 1 on a regression, so CI can gate on the history and not only on a pair.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::common::{FileArgs, FilterArgs};
use crate::cli::exit::EXIT_REGRESSION;
use crate::cli::gate_args::as_usage;
use crate::cli::output::print;
use crate::compare::metric::Thresholds;
use crate::compare::output::Format;
use crate::error::ConfigError;
use crate::history::changepoint::{Config, DEFAULT_ALPHA, DEFAULT_MIN_SIZE, Significance};
use crate::history::check::{CheckOptions, check};
use crate::history::check_output::render;
use crate::store::metric::Metric;

/// The method, for `--help`; the README says the same.
pub const METHOD: &str = "\
Method: each case's metric on each machine is a series of per-run figures in start order (the \
run's p50, p99, p99.9, throughput, receiver CPU per message). Change points are found by \
E-divisive means (Matteson & James 2014, as in Apache Otava/Hunter) on log figures: in a \
segment, the split that maximises the energy divergence is a candidate; it is kept when \
Student's t-test of the log figures either side gives p <= --alpha (default 0.01) after a \
Bonferroni correction over every split the search could have picked, and both halves are \
searched again. --method permutation uses Matteson & James's permutation test instead (it \
cannot reach small p-values on short histories). Each change point is named by the run and \
commit where the new segment starts, with its size (ratio of medians after/before) and a 95 % \
bootstrap interval (runs resampled, then iterations within them). A slow drift shows as a \
staircase of same-direction change points. Verdict: when the newest change point made the metric \
worse, the newest segment is compared with the segment before the staircase of worsening steps \
that ends in it; it is a REGRESSION when that interval lies wholly beyond the gate's noise \
threshold (default 5 % for p50, throughput and receiver CPU, 10 % for p99; --threshold as in \
`compare`). p99 is gated only when every iteration holds at least 100k samples; p99.9 is \
reported, never gated. Series need 6 runs before anything is tested.";

/// Look for change points in every series and judge each series' newest segment.
#[derive(Debug, Args)]
#[command(
    long_about = format!("Look for change points in every series and judge each series' newest segment.\n\n{METHOD}"),
    after_help = "\
Examples:
  loopbench history check
  loopbench history check --branch main --format markdown \\
      >> \"$GITHUB_STEP_SUMMARY\"
  loopbench history check --case tcp4-rr-blocking-cross-core-64B --metric p50 \\
      --threshold 3
  loopbench history check --max-age 20 --format json

Exit codes: 0 no regression, 1 a gated series regressed in its newest segment, 2 usage or data error."
)]
pub struct CheckArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// Only these cases (comma list or repeated).
    #[arg(long, value_delimiter = ',', value_name = "CASE")]
    case: Vec<String>,
    /// Only these metrics (comma list): p50, p99, p99.9, throughput, receiver-cpu.
    #[arg(long, value_delimiter = ',', value_name = "METRIC")]
    metric: Vec<String>,
    /// Noise threshold in percent, as in `compare`: `5` sets p50 and throughput, `METRIC=PCT`
    /// one metric [default: p50 5, throughput 5, receiver-cpu 5, p99 10].
    #[arg(long, value_name = "SPEC")]
    threshold: Vec<String>,
    /// Significance level of each change point.
    #[arg(long, default_value_t = DEFAULT_ALPHA)]
    alpha: f64,
    /// Fewest runs on each side of a change point.
    #[arg(long, default_value_t = DEFAULT_MIN_SIZE, value_name = "N")]
    min_runs: usize,
    /// The significance test: student or permutation.
    #[arg(long, default_value = "student")]
    method: String,
    /// Permutations of the permutation test.
    #[arg(long, default_value_t = 199, value_name = "N")]
    permutations: usize,
    /// Confidence level of the intervals, in percent.
    #[arg(long, default_value_t = 95.0, value_name = "PCT")]
    confidence: f64,
    /// Judge only a newest change point within N runs of the end (an older one is accepted).
    #[arg(long, value_name = "N")]
    max_age: Option<usize>,
    /// Seed of the bootstrap (and permutations): the same history and seed give the same report.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker threads [default: the CPUs this process may use].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Output format: table, markdown, json.
    #[arg(long, default_value = "table", value_name = "FORMAT")]
    format: String,
    #[command(flatten)]
    file: FileArgs,
}

fn options(args: &CheckArgs) -> Result<(CheckOptions, Format), ConfigError> {
    let bad = |m: &str| Err(ConfigError::Invalid(m.to_string()));
    let mut thresholds = Thresholds::default();
    for t in &args.threshold {
        thresholds.apply(t)?;
    }
    let significance = match args.method.trim().to_ascii_lowercase().as_str() {
        "student" | "t" => Significance::Student,
        "permutation" => Significance::Permutation {
            permutations: args.permutations,
        },
        other => {
            return Err(ConfigError::UnknownValue {
                dimension: "--method",
                value: other.into(),
                expected: "student, permutation".into(),
            });
        }
    };
    if !(args.alpha > 0.0 && args.alpha < 0.5) {
        return bad("--alpha must lie between 0 and 0.5, e.g. 0.01");
    }
    if !(args.confidence > 50.0 && args.confidence < 100.0) {
        return bad("--confidence must lie between 50 and 100 (percent), e.g. 95");
    }
    if args.min_runs < 2 {
        return bad("--min-runs must be at least 2");
    }
    if args.permutations < 19 {
        return bad("--permutations must be at least 19 (199 is the default)");
    }
    let metrics = args
        .metric
        .iter()
        .map(|m| m.parse::<Metric>())
        .collect::<Result<_, _>>()?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    Ok((
        CheckOptions {
            filter: args.filter.filter(),
            cases: args.case.clone(),
            metrics,
            config: Config {
                alpha: args.alpha,
                min_size: args.min_runs,
                significance,
                confidence: args.confidence / 100.0,
                seed: args.seed,
                ..Config::default()
            },
            thresholds,
            max_age: args.max_age,
            threads: threads.max(1),
        },
        args.format.parse()?,
    ))
}

fn run(args: &CheckArgs) -> Result<ExitCode> {
    let (options, format) = options(args)?;
    super::common::open_existing(&args.file.path())?;
    let report = check(&args.file.path(), &options)?;
    print(&render(&report, format))?;
    Ok(if report.regressions().next().is_some() {
        ExitCode::from(EXIT_REGRESSION)
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs the command.
pub fn execute(args: CheckArgs) -> Result<ExitCode> {
    run(&args).map_err(as_usage)
}
