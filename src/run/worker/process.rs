//! The two sides in separate processes. `loopbench server` listens, prints where (one JSON line
//! on stdout), serves sessions (one per client iteration: accept `--flows` connections, run the
//! server threads, print what they measured as one JSON line). `loopbench run --processes`
//! starts one such server process per iteration and runs the clients in its own process, so
//! thread-vs-process effects can be measured with everything else equal; `loopbench client
//! --connect ADDR` runs only the clients, against a `loopbench server` or any local service.
//!
//! Protocol on the server's stdout, one JSON object per line: [`Announce::Listening`] once, then
//! per session [`Announce::Ready`] (all connections accepted) and [`Announce::Done`] (the
//! server threads' reports). With `--once` the server also reads stdin: its end tells the server
//! that the clients are done (the wind-down of `crr`, whose servers wait on a listener).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};

use super::flows::{ThreadFlows, client_env, deal, per_transaction_client};
use super::outcome::{IterationOutcome, Side, WorkerReport};
use super::threads::run_local;
use crate::engine::{FlowReport, FlowSlot};
use crate::host::topology::ResolvedPlacement;
use crate::metrics::clock::{MonotonicClock, monotonic_ns};
use crate::metrics::counters::Counters;
use crate::metrics::rusage::ThreadUsage;
use crate::metrics::series::Slice;
use crate::spec::{IterationLength, Spec};
use crate::transport::ConnInfo;
use crate::transport::dial::{CrrListener, Dialer, parse_target};
use crate::workload::{self, Connections, Heartbeat, ServerEnv, client_flow, server_flow};

/// How long a server process may take to start and to accept the clients.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

/// One line of a server process's stdout.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Announce {
    /// Where the server listens (clients connect here).
    Listening {
        /// The address, as `--connect` takes it.
        address: String,
        /// The server's process id.
        pid: u32,
    },
    /// Every connection of the session is accepted; the server threads start.
    Ready,
    /// The session ended: what each server thread measured.
    Done {
        /// One per server thread.
        workers: Vec<RemoteWorker>,
        /// Why the session failed, if it did.
        error: Option<String>,
    },
}

/// What one server thread of a server process measured.
#[derive(Debug, Serialize, Deserialize)]
pub struct RemoteWorker {
    index: usize,
    usage: ThreadUsage,
    #[serde(default)]
    engine_threads: ThreadUsage,
    elapsed_ns: u64,
    migrations: Option<u64>,
    cpus: [Option<usize>; 2],
    flow_ids: Vec<usize>,
    flows: Vec<RemoteFlow>,
}

/// What one server flow measured.
#[derive(Debug, Serialize, Deserialize)]
pub struct RemoteFlow {
    counters: Counters,
    slices: Vec<Slice>,
    receive_span_ns: Option<u64>,
}

impl RemoteWorker {
    fn of(r: WorkerReport) -> RemoteWorker {
        RemoteWorker {
            index: r.index,
            usage: r.usage,
            engine_threads: r.engine_threads,
            elapsed_ns: r.elapsed_ns,
            migrations: r.migrations,
            cpus: r.cpus,
            flow_ids: r.flow_ids,
            flows: r
                .flows
                .into_iter()
                .map(|f| RemoteFlow {
                    counters: f.counters,
                    slices: f.slices,
                    receive_span_ns: f.receive_span_ns,
                })
                .collect(),
        }
    }

    fn into_report(self) -> WorkerReport {
        WorkerReport {
            index: self.index,
            side: Side::Server,
            result: Ok(()),
            usage: self.usage,
            engine_threads: self.engine_threads,
            elapsed_ns: self.elapsed_ns,
            migrations: self.migrations,
            cpus: self.cpus,
            flow_ids: self.flow_ids,
            flows: self
                .flows
                .into_iter()
                .map(|f| FlowReport {
                    counters: f.counters,
                    slices: f.slices,
                    receive_span_ns: f.receive_span_ns,
                    ..FlowReport::default()
                })
                .collect(),
        }
    }
}

/// What `run --processes` hands a server process (one hidden argument, JSON).
#[derive(Debug, Serialize, Deserialize)]
pub struct Session {
    /// The case.
    pub spec: Spec,
    /// The iteration's length.
    pub length: IterationLength,
    /// CPUs of the server threads.
    pub server_cpus: Vec<usize>,
}

fn announce(a: &Announce) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, a)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// Runs a server: listens on `spec`'s address and serves `sessions` sessions (forever when
/// `None`). With `stdin_control`, the end of stdin says the clients are done.
pub fn serve(
    spec: &Spec,
    length: IterationLength,
    placement: &ResolvedPlacement,
    sessions: Option<u32>,
    stdin_control: bool,
    interrupt: &AtomicBool,
) -> Result<()> {
    if !spec.transport.crosses_processes() {
        let served: Vec<&str> = crate::spec::Transport::ALL
            .iter()
            .filter(|t| t.crosses_processes())
            .map(|t| t.as_str())
            .collect();
        bail!(crate::error::ConfigError::Invalid(format!(
            "a server process serves {} (a client in another process reaches it by address), \
             not {}; measure {} with `loopbench run`",
            served.join(", "),
            spec.transport,
            spec.transport
        )));
    }
    workload::check(spec)?;
    if workload::connections(spec) == Connections::PerTransaction && !stdin_control {
        bail!(crate::error::ConfigError::Invalid(format!(
            "a standalone server cannot tell when {w} clients are done; run {w} with `loopbench run --processes`",
            w = spec.workload
        )));
    }
    crate::transport::ignore_sigpipe();
    crate::run::resources::raise_fd_limit(spec)?;
    let listener = CrrListener::open(spec)?;
    announce(&Announce::Listening {
        address: listener.address(),
        pid: std::process::id(),
    })?;
    let gone = Arc::new(AtomicBool::new(false));
    if stdin_control {
        let flag = gone.clone();
        std::thread::spawn(move || {
            let _ = std::io::stdin().read_to_end(&mut Vec::new());
            flag.store(true, Ordering::Relaxed);
        });
    }
    let mut served = 0;
    while sessions.is_none_or(|n| served < n) && !interrupt.load(Ordering::Relaxed) {
        // Under `run --processes` the parent is there within seconds; a server of its own waits
        // for its clients as long as it takes (until interrupted).
        let deadline = stdin_control
            .then(|| monotonic_ns() + spec.timing.timeout_ns.max(SETUP_TIMEOUT.as_nanos() as u64));
        let groups = match accept_session(spec, length, &listener, deadline, interrupt) {
            Err(e) if e.downcast_ref::<crate::error::Interrupted>().is_some() => break,
            other => other?,
        };
        announce(&Announce::Ready)?;
        let sides = vec![(Side::Server, groups)];
        let result = run_local(spec, placement, length, interrupt, sides, &[], Some(&gone));
        let (workers, error) = match result {
            Ok(m) => (m.reports.into_iter().map(RemoteWorker::of).collect(), None),
            Err(e) => (Vec::new(), Some(format!("{e:#}"))),
        };
        announce(&Announce::Done { workers, error })?;
        served += 1;
    }
    Ok(())
}

/// Accepts the session's connections (crr: hands each flow a listener) and builds its flows.
fn accept_session(
    spec: &Spec,
    length: IterationLength,
    listener: &CrrListener,
    deadline: Option<u64>,
    interrupt: &AtomicBool,
) -> Result<Vec<ThreadFlows>> {
    let mut groups = ThreadFlows::per_thread(spec);
    for f in 0..spec.flows.max(1) as usize {
        let conn = if workload::connections(spec) == Connections::PerTransaction {
            listener.listening_conn()?
        } else {
            listener.accept_or_stop(deadline, interrupt)?
        };
        let flow = server_flow(spec, ServerEnv::plain(MonotonicClock, length));
        deal(&mut groups, f, FlowSlot { conn, flow });
    }
    Ok(groups)
}

/// A server process for one iteration, and the lines it prints.
struct ServerProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl ServerProcess {
    fn spawn(session: &Session) -> Result<ServerProcess> {
        let exe = std::env::current_exe().context("finding the loopbench executable")?;
        let mut command = Command::new(exe);
        command
            .args(["server", "--once", "--session-json"])
            .arg(serde_json::to_string(session)?);
        ServerProcess::start(command)
    }

    /// Starts `command` as the server process and reads its stdout lines in a thread.
    fn start(mut command: Command) -> Result<ServerProcess> {
        use std::os::unix::process::CommandExt;
        let mut child = command
            // Its own process group: a Ctrl-C meant for the run reaches only the parent, which
            // ends the session by closing stdin (the server never dies halfway through one).
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the server process")?;
        let stdout = child.stdout.take().context("server stdout")?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Ok(ServerProcess {
            child,
            stdin,
            lines,
        })
    }

    fn next(&self, timeout: Duration) -> Result<Announce> {
        let line = self.lines.recv_timeout(timeout).map_err(|_| {
            anyhow!("the server process said nothing within {timeout:?} (see its stderr above)")
        })?;
        serde_json::from_str(&line)
            .with_context(|| format!("unreadable line from the server process: {line}"))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        drop(self.stdin.take());
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds the client flows of one iteration, connecting to `target`.
fn connect_clients(
    spec: &Spec,
    length: IterationLength,
    target: &str,
) -> Result<(Vec<ThreadFlows>, Vec<Heartbeat>)> {
    crate::run::resources::raise_fd_limit(spec)?;
    let server = parse_target("--connect", target)?;
    let connect_timeout = Duration::from_nanos(spec.timing.timeout_ns);
    let flows = spec.flows.max(1) as usize;
    let mut groups = ThreadFlows::per_thread(spec);
    let mut heartbeats = Vec::with_capacity(flows);
    for f in 0..flows {
        let (env, heartbeat) = client_env(length, f as u32, None);
        let slot = if workload::connections(spec) == Connections::PerTransaction {
            per_transaction_client(spec, server.clone(), (f, flows), env)?
        } else {
            let mut dialer = Dialer::to(spec, server.clone(), f, flows);
            let conn = dialer.dial_within(connect_timeout).map_err(|e| {
                if e.kind() == std::io::ErrorKind::TimedOut {
                    anyhow!(
                        "could not connect to {target} within {connect_timeout:?} (--timeout): \
                         the service does not complete the handshake (its listen backlog is \
                         full, or it is stuck)"
                    )
                } else {
                    crate::error::UsageError(format!("could not connect to {target}: {e}")).into()
                }
            })?;
            FlowSlot {
                conn,
                flow: client_flow(spec, env, None)?,
            }
        };
        heartbeats.push(heartbeat);
        deal(&mut groups, f, slot);
    }
    Ok((groups, heartbeats))
}

/// One iteration with the clients here and the server in a child process (`--processes`), or
/// against a service that already listens (`--connect`).
pub fn run_iteration(
    spec: &Spec,
    placement: &ResolvedPlacement,
    length: IterationLength,
    interrupt: &AtomicBool,
) -> Result<IterationOutcome> {
    let (server, target) = match &spec.layout.connect {
        Some(target) => (None, target.clone()),
        None => {
            let p = ServerProcess::spawn(&Session {
                spec: spec.clone(),
                length,
                server_cpus: placement.server.clone(),
            })?;
            match p.next(SETUP_TIMEOUT)? {
                Announce::Listening { address, .. } => (Some(p), address),
                other => bail!("the server process began with {other:?}"),
            }
        }
    };
    let (groups, heartbeats) = connect_clients(spec, length, &target)?;
    if let Some(p) = &server {
        match p.next(SETUP_TIMEOUT)? {
            Announce::Ready => {}
            other => bail!("the server process did not accept the clients: {other:?}"),
        }
    }
    let connection = (
        ConnInfo {
            peer: Some(target.clone()),
            ..ConnInfo::default()
        },
        ConnInfo {
            local: Some(target),
            ..ConnInfo::default()
        },
    );
    let sides = vec![(Side::Client, groups)];
    let measured = run_local(spec, placement, length, interrupt, sides, &heartbeats, None)?;
    let mut remote = Vec::new();
    if let Some(mut p) = server {
        drop(p.stdin.take());
        let wait = Duration::from_nanos(spec.timing.timeout_ns) + SETUP_TIMEOUT;
        match p.next(wait)? {
            Announce::Done { error: Some(e), .. } => bail!("server process: {e}"),
            Announce::Done { workers, .. } => {
                remote = workers.into_iter().map(RemoteWorker::into_report).collect()
            }
            other => bail!("unexpected line from the server process: {other:?}"),
        }
    }
    measured.into_outcome(spec, connection, remote)
}

#[cfg(test)]
#[path = "process_tests.rs"]
mod tests;
