//! `loopbench run`: measure a matrix of cases and store the run.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::args::{MatrixArgs, OutputArgs};
use super::format_args::FormatArgs;
use super::measure::measure;
use super::trust_args::TrustArgs;
use crate::host::topology::Topology;

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
  loopbench run --transport tcp4,udp4,unix-stream --size 64,1024 \\
      --placement same-core,cross-core
  loopbench run -t shm,pipe,tcp4 -e blocking,spin -n 10 -d 500ms
  loopbench run -t tcp4 --addr 127.0.0.2 --client-addr 127.0.0.3 --json \\
      > run.json
  loopbench run -t tcp4,unix-stream --export-markdown run.md \\
      --export-csv run.csv
  loopbench run -w stream -s 128KiB -t tcp4,unix-stream
  loopbench run -w crr -t tcp4 --spread 127.0.0.2-127.0.0.50 -d 60s -n 1
  loopbench run -w rate --rate 20000 -t tcp4,udp4 -e blocking,epoll
  loopbench run -e epoll --flows 1000 -t tcp4 -c 100
  loopbench run --flows 2 --threads 2 --client-cpus 0,1 --server-cpus 1,0
  loopbench run -e blocking,spin,epoll,tokio,tokio-mt -t tcp4,udp4 \\
      -p same-core,cross-core
  loopbench run -w stream -s 64KiB --memory-load 1 -p same-core
  loopbench run --processes -t tcp4,unix-stream
  loopbench run -t tcp4 -p cross-core --precision 2% --max-time 3m

Exit codes: 0 ok, 1 a case failed (the rest is still stored), 2 bad input, 130 interrupted.")]
pub struct RunArgs {
    #[command(flatten)]
    matrix: MatrixArgs,
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    trust: TrustArgs,
    #[command(flatten)]
    formats: FormatArgs,
}

/// Runs the command.
pub fn execute(args: RunArgs, command_line: Vec<String>) -> Result<ExitCode> {
    let topology = Topology::detect();
    let specs =
        crate::workload::expand(&args.matrix.options().matrix(topology.default_placement())?)?;
    measure(
        specs,
        &args.output,
        &args.trust,
        &args.formats,
        command_line,
    )
}
