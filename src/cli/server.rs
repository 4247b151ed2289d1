//! `loopbench server`: the server side as its own (pinned) process.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::args::MatrixArgs;
use super::interrupt;
use crate::error::ConfigError;
use crate::host::topology::Topology;
use crate::run::worker::process::{Session, serve};

/// Run the server side of a case as its own process.
///
/// Listens on the case's address and prints one JSON line with it ({"event":"listening",
/// "address":"127.0.0.1:PORT",...}); then, per session, accepts --flows connections, answers
/// them with --threads pinned server threads (the CPUs of --server-cpu/--server-cpus or the
/// placement's server side) and prints one JSON line with what they measured. A session ends
/// when its clients close. `loopbench client --connect ADDRESS` (with the same case flags) is
/// its counterpart; `loopbench run --processes` starts one automatically per iteration.
/// Supported transports: tcp4, tcp6, unix-stream, unix-seqpacket; workloads rr, stream, rate.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  loopbench server -t tcp4 --port 9000 --server-cpu 1 --client-cpu 0
  loopbench server -t unix-stream --addr /tmp/lb.sock -w stream -s 128KiB \\
      --sessions 6
  loopbench client --connect 127.0.0.1:9000 --client-cpu 0 --server-cpu 1")]
pub struct ServerArgs {
    #[command(flatten)]
    matrix: MatrixArgs,
    /// Serve this many sessions, then exit [default: until interrupted]. The server waits for
    /// its clients as long as it takes; Ctrl-C or SIGTERM stops it at once (exit 130).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    sessions: Option<u32>,
    /// One session; stdin's end says the clients are done (used by `run --processes`).
    #[arg(long, hide = true)]
    once: bool,
    /// The session as JSON (used by `run --processes`).
    #[arg(long, hide = true)]
    session_json: Option<String>,
}

/// Runs the command.
pub fn execute(args: ServerArgs) -> Result<ExitCode> {
    let interrupted = interrupt::install();
    let topology = Topology::detect();
    let session: Session = match &args.session_json {
        Some(json) => serde_json::from_str(json)
            .map_err(|e| crate::error::UsageError(format!("reading --session-json: {e}")))?,
        None => {
            if args.matrix.workload.processes {
                return Err(ConfigError::Invalid(
                    "--processes makes `loopbench run` start a server process per iteration; \
                     `loopbench server` is that process: leave --processes out"
                        .into(),
                )
                .into());
            }
            let mut specs = crate::workload::expand(
                &args.matrix.options().matrix(topology.default_placement())?,
            )?;
            if specs.len() != 1 {
                return Err(ConfigError::Invalid(format!(
                    "a server serves one case, but the flags describe {}; give one value per dimension",
                    specs.len()
                ))
                .into());
            }
            let spec = specs.remove(0);
            refuse_instruments(&spec)?;
            // The checks of a run (the case, its CPUs, memory and file descriptors) before
            // anything listens.
            let plan = crate::run::plan::Plan::new(vec![spec.clone()], &topology, 0, true)?;
            let server_cpus = plan.cases[0].cpus.server.clone();
            Session {
                length: spec.timing.length,
                spec,
                server_cpus,
            }
        }
    };
    let placement = crate::host::topology::ResolvedPlacement {
        client: Vec::new(),
        server: session.server_cpus.clone(),
    };
    let sessions = if args.once { Some(1) } else { args.sessions };
    serve(
        &session.spec,
        session.length,
        &placement,
        sessions,
        args.once,
        interrupted,
    )?;
    if interrupted.load(std::sync::atomic::Ordering::SeqCst) {
        eprintln!("interrupted");
        return Ok(ExitCode::from(super::exit::EXIT_INTERRUPTED));
    }
    Ok(ExitCode::SUCCESS)
}

/// Refuses `--stages`, `--trace` and `--profile` on a server of its own: they join or watch both
/// sides of one `loopbench run`, and a lone server has no client in its process.
fn refuse_instruments(spec: &crate::spec::Spec) -> Result<(), ConfigError> {
    let flag = match (
        spec.instrument.stages,
        spec.probes.trace,
        spec.probes.profile,
    ) {
        (true, ..) => "--stages",
        (_, true, _) => "--trace",
        (.., true) => "--profile",
        _ => return Ok(()),
    };
    Err(ConfigError::Invalid(format!(
        "{flag} measures both sides of one `loopbench run` in one process; a server alone has \
         no client there: leave {flag} out, or measure with `loopbench run {flag}`"
    )))
}
