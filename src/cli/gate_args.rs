//! The gate's settings and method text, shared by `compare` and `ab`, and the gate commands'
//! error rule (shared with `baseline`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use super::exit::EXIT_REGRESSION;
use super::format_args::{FormatArgs, Rendering, check_file_flag};
use super::github;
use super::output::is_broken_pipe;
use crate::compare::gate::GateConfig;
use crate::compare::input::Side;
use crate::compare::output::{Format, csv, junit, render};
use crate::compare::{CompareOptions, Comparison, compare};
use crate::error::{ConfigError, UsageError, is_usage_error};
use crate::spec::CaseId;
use crate::store::write_atomic;

/// The method, for `--help`; the README says the same.
pub const METHOD: &str = "\
Method: the sample unit is one iteration (a fresh connection pair, interleaved with the other \
cases), never an individual request (those are autocorrelated). Each side may pool several runs; \
cases are matched by case id (or --pair). For each case and metric (p50, p99, p99.9, throughput = \
msgs/s for rr, bytes/s for stream) the gate computes the ratio of medians NEW/BASE with a \
percentile-bootstrap confidence interval (default 95 %, 10000 resamples, seeded; runs are resampled \
first, then iterations within them, so a run that was slow as a whole widens the interval instead \
of passing for a change) and a one-sided Mann-Whitney U test in each direction (exact without ties \
up to 50 iterations per side, else the normal approximation with tie and continuity correction). \
Comparisons are time-paired where the measurement allows it, which cancels drift of the machine \
between speed regimes: cases measured interleaved in the same run(s) (compare RUN RUN --pair A=B) \
pair each NEW iteration with the BASE iteration that ran closest in time; separate runs measured in \
BASE/NEW rounds (loopbench ab: the runs, in start order, form consecutive BASE/NEW couples) pair \
each round's run medians, and when each round's two runs took turns (ab --interleave iterations, \
the default: both alive at once, measuring one iteration each in turn) each NEW iteration with the \
BASE iteration of its round that ran closest in time (--unpaired turns all of this off). A paired comparison takes the median of the \
per-pair ratios (bootstrap interval over the pairs) and an exact one-sided sign test. Holm's correction spans every gated metric of every case (family-wise alpha, default 0.05). A \
change is a REGRESSION only if it is significant AND its interval lies entirely beyond the noise \
threshold, a factor both ways (default 5 % for p50 and throughput, 10 % for p99: latency above \
x1.05, throughput below /1.05); the mirror image is an improvement; anything else is no change \
(its reason says when the interval reaches past the threshold: a change that large is not ruled out). \
p99 is gated only when every iteration holds at least 100k samples; p99.9 is reported, never \
gated. With fewer than --min-iterations (default 5) iterations on a side a gated metric is \
inconclusive (exit 0, with a note).";

/// The gate's settings, shared by `compare` and `ab`. The statistics flags also take
/// criterion's names (`--significance-level`, `--nresamples`, and `--confidence-level` and
/// `--noise-threshold` as fractions).
#[derive(Debug, Clone, Args)]
pub struct GateArgs {
    /// Noise threshold in percent: `5` sets p50 and throughput, `METRIC=PCT` one metric (p50,
    /// p99, p99.9, throughput); comma list [default: p50 5, throughput 5, p99 10].
    #[arg(long, value_name = "SPEC")]
    threshold: Vec<String>,
    /// Noise threshold of p50 and throughput as a fraction (criterion's name): 0.05 is
    /// `--threshold 5`.
    #[arg(long, value_name = "FRACTION")]
    noise_threshold: Option<f64>,
    /// Confidence level of the bootstrap intervals, in percent.
    #[arg(long, default_value_t = 95.0, value_name = "PCT")]
    confidence: f64,
    /// Confidence level as a fraction (criterion's name): 0.95 is `--confidence 95`.
    #[arg(long, value_name = "FRACTION", conflicts_with = "confidence")]
    confidence_level: Option<f64>,
    /// Family-wise significance level, after Holm's correction.
    #[arg(long, visible_alias = "significance-level", default_value_t = 0.05)]
    alpha: f64,
    /// Fewer iterations than this on a side makes a gated metric inconclusive.
    #[arg(long, default_value_t = 5, value_name = "N")]
    min_iterations: usize,
    /// Bootstrap resamples per interval.
    #[arg(long, visible_alias = "nresamples", default_value_t = crate::stats::DEFAULT_RESAMPLES, value_name = "N")]
    resamples: usize,
    /// Bootstrap seed: the same data and seed give the same report.
    #[arg(long, default_value_t = crate::compare::gate::DEFAULT_SEED)]
    seed: u64,
    /// Compare BASE case A with NEW case B although their ids differ (repeatable).
    #[arg(long, value_name = "A=B")]
    pair: Vec<String>,
    /// Refuse to compare when the environments differ (kernel, CPU, governor, idle driver, SMT,
    /// loopback MTU, sysctls, mitigations, ...).
    #[arg(long)]
    strict_env: bool,
    /// Compare separate runs as independent samples even when they came in BASE/NEW rounds
    /// (by default such rounds are paired: each round's NEW run with its BASE run).
    #[arg(long)]
    unpaired: bool,
    /// Also write a JUnit XML file: one test case per gated metric, a regression fails it, an
    /// inconclusive one is skipped (for CI systems that read JUnit).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    #[command(flatten)]
    formats: FormatArgs,
}

impl GateArgs {
    /// The validated options; also checks the output flags (format, export and JUnit files).
    pub fn options(&self) -> Result<CompareOptions, ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_string()));
        let confidence = match self.confidence_level {
            Some(level) if !(level > 0.5 && level < 1.0) => {
                return bad(
                    "--confidence-level must lie between 0.5 and 1 (a fraction), e.g. 0.95",
                );
            }
            Some(level) => level * 100.0,
            None => self.confidence,
        };
        let mut gate = GateConfig {
            confidence: confidence / 100.0,
            alpha: self.alpha,
            resamples: self.resamples,
            seed: self.seed,
            min_iterations: self.min_iterations,
            ..GateConfig::default()
        };
        if let Some(noise) = self.noise_threshold {
            if !(0.0..1.0).contains(&noise) {
                return bad(
                    "--noise-threshold must be at least 0 and below 1 (a fraction), e.g. 0.05",
                );
            }
            gate.thresholds.apply(&(noise * 100.0).to_string())?;
        }
        for t in &self.threshold {
            gate.thresholds.apply(t)?;
        }
        if !(confidence > 50.0 && confidence < 100.0) {
            return bad("--confidence must lie between 50 and 100 (percent), e.g. 95");
        }
        if !(self.alpha > 0.0 && self.alpha < 0.5) {
            return bad("--alpha must lie between 0 and 0.5, e.g. 0.05");
        }
        if self.min_iterations < 2 {
            return bad("--min-iterations must be at least 2");
        }
        if self.resamples < 100 {
            return bad("--resamples must be at least 100 (10000 is the default)");
        }
        self.formats.check()?;
        if let Some(path) = &self.junit {
            check_file_flag("--junit", path)?;
        }
        let pairs = self
            .pair
            .iter()
            .map(|p| match p.split_once('=') {
                Some((b, n)) if !b.trim().is_empty() && !n.trim().is_empty() => {
                    Ok((CaseId(b.trim().to_string()), CaseId(n.trim().to_string())))
                }
                _ => Err(ConfigError::Invalid(format!(
                    "--pair '{p}': write BASE_CASE_ID=NEW_CASE_ID"
                ))),
            })
            .collect::<Result<_, _>>()?;
        Ok(CompareOptions {
            gate,
            pairs,
            strict_env: self.strict_env,
            unpaired: self.unpaired,
        })
    }

    /// Compares, prints in the chosen format, and returns the gate's exit code.
    pub fn compare_and_print(&self, base: &Side, new: &Side) -> Result<(Comparison, ExitCode)> {
        let comparison = compare(base, new, &self.options()?)?;
        let code = self.print(&comparison)?;
        Ok((comparison, code))
    }

    /// Writes the JUnit file, the GitHub Actions annotations, summary and outputs (under
    /// `GITHUB_ACTIONS=true`) and the export files, prints `comparison` in the chosen format,
    /// and returns the gate's exit code.
    pub fn print(&self, comparison: &Comparison) -> Result<ExitCode> {
        if let Some(path) = &self.junit {
            write_atomic(path, junit::render(comparison).as_bytes())
                .with_context(|| format!("--junit {}", path.display()))?;
        }
        github::publish(comparison)?;
        self.formats.emit(|rendering| {
            Ok(match rendering {
                Rendering::Table => render(comparison, Format::Table),
                Rendering::Json => render(comparison, Format::Json),
                Rendering::Markdown => render(comparison, Format::Markdown),
                Rendering::Csv => csv::render(comparison)?,
            })
        })?;
        Ok(if comparison.has_regression() {
            ExitCode::from(EXIT_REGRESSION)
        } else {
            ExitCode::SUCCESS
        })
    }
}

/// Every error of a gate command is a usage or data error (exit 2), never "regression" (1).
pub fn as_usage(e: anyhow::Error) -> anyhow::Error {
    if is_usage_error(&e) || is_broken_pipe(&e) {
        e
    } else {
        e.context(UsageError("cannot compare".into()))
    }
}
