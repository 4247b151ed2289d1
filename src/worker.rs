//! One iteration: connect fresh pairs, start pinned client and server threads behind a barrier,
//! let the engine drive them, and watch over them so that nothing can hang.
//!
//! The watchdog has two tools: the shared [`Control`] (engines look at it whenever a flow cannot
//! progress), and a signal ("kick") that interrupts any blocking system call on any transport.
//! Measured connections carry no receive timeout (that would arm a kernel timer on every sleep);
//! instead the watchdog kicks a blocked client when a datagram may be lost, and every worker
//! when the servers must wind down or the iteration is aborted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Once};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};

use crate::engine::{Aborted, Control, FlowReport, RunState, engine_for};
use crate::metrics::clock::monotonic_ns;
use crate::metrics::counters::Counters;
use crate::metrics::histogram::{LatencyHistogram, LatencySummary, new_histogram};
use crate::metrics::memload::MemoryLoad;
use crate::metrics::rusage::ThreadUsage;
use crate::metrics::sched;
use crate::metrics::series::{self, Slice};
use crate::placement::{ResolvedPlacement, current_cpu, pin_current_thread};
use crate::setup::{self, ThreadFlows};
use crate::spec::{IterationLength, Spec};
use crate::transport::ConnInfo;
use crate::workload::crr::PortSet;
use crate::workload::rate::ScheduleStats;
use crate::workload::{Heartbeat, counted_by_server, servers_end_at_eof};

/// Longest one blocking wait sleeps before looking at the control.
const MAX_TICK: Duration = Duration::from_millis(100);

/// How often the watchdog looks at the workers, and re-sends kicks.
const WATCH_INTERVAL: Duration = Duration::from_millis(10);

/// How long aborted workers get to stop before they are abandoned.
const ABORT_GRACE: Duration = Duration::from_secs(3);

/// Which side a worker thread is on.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Sends requests, records latency.
    Client,
    /// Answers.
    Server,
}

/// What one side measured over an iteration, summed over its threads and flows.
#[derive(Clone, Debug, Default)]
pub struct SideOutcome {
    /// CPU time and context switches of the side's threads during the measured loop.
    pub usage: ThreadUsage,
    /// Summed flow counters.
    pub counters: Counters,
    /// CPUs the side's threads were seen on (at start and end of the loop), sorted, distinct.
    pub cpus: Vec<usize>,
    /// Longest time one of its threads spent in the measured loop, in nanoseconds.
    pub elapsed_ns: u64,
    /// Receivers: what arrived per time slice, summed over flows.
    pub slices: Vec<Slice>,
    /// Receivers: the longest span from a flow's first step to its last received data.
    pub receive_span_ns: u64,
    /// CPU migrations of the side's threads during the loop; `None` when the kernel does not
    /// expose them (no se.nr_migrations in /proc/thread-self/sched).
    pub migrations: Option<u64>,
}

/// What one flow did over an iteration, both sides.
#[derive(Clone, Debug, Default)]
pub struct FlowOutcome {
    /// Flow index.
    pub flow: usize,
    /// The client thread and server thread that drove it.
    pub threads: (usize, usize),
    /// Client counters.
    pub client: Counters,
    /// Server counters.
    pub server: Counters,
    /// Client latency (corrected for `rate`), when the workload records latency.
    pub latency: Option<LatencySummary>,
}

/// What an iteration's throughput is computed from: counted where the workload says
/// (completed round trips at the client for `rr`, received data at the server for `stream`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Throughput {
    /// Messages completed.
    pub messages: u64,
    /// Payload bytes received.
    pub bytes: u64,
    /// Over this much time.
    pub elapsed_ns: u64,
}

/// Everything one iteration measured.
pub struct IterationOutcome {
    /// Client-measured latencies of all flows, merged.
    pub latency: LatencyHistogram,
    /// Messages and bytes per time, counted at the side the workload counts at.
    pub throughput: Throughput,
    /// The client side.
    pub client: SideOutcome,
    /// The server side.
    pub server: SideOutcome,
    /// The first flow's connection, as the client and the server see it.
    pub connection: (ConnInfo, ConnInfo),
    /// `rate`: latency from the actual send time, all flows merged.
    pub latency_actual: Option<LatencyHistogram>,
    /// Per flow, in flow order.
    pub flows: Vec<FlowOutcome>,
    /// `rate`: the send schedule, summed over flows.
    pub schedule: Option<ScheduleStats>,
    /// `crr`: local ports the clients used.
    pub ports: Option<Box<PortSet>>,
    /// NET_RX softirqs per CPU during the iteration.
    pub net_rx_softirqs: Option<Vec<u64>>,
    /// `--memory-load`: bandwidth the competing copy achieved (bytes/s).
    pub memory_load_bytes_per_sec: Option<f64>,
}

/// What one worker thread reports at its end (or a server process, for each of its threads).
pub(crate) struct WorkerReport {
    pub(crate) index: usize,
    pub(crate) side: Side,
    pub(crate) result: Result<()>,
    pub(crate) usage: ThreadUsage,
    pub(crate) elapsed_ns: u64,
    pub(crate) migrations: Option<u64>,
    pub(crate) cpus: [Option<usize>; 2],
    pub(crate) flows: Vec<FlowReport>,
    pub(crate) flow_ids: Vec<usize>,
}

/// The signal used to interrupt blocked workers. A real-time signal, so it does not collide
/// with SIGUSR1/2 that an embedding program may use; its handler does nothing.
fn kick_signal() -> libc::c_int {
    libc::SIGRTMIN() + 3
}

extern "C" fn ignore_kick(_: libc::c_int) {}

/// Installs the no-op kick handler (once per process), without SA_RESTART so blocked system
/// calls return EINTR.
pub(crate) fn install_kick_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: a zeroed sigaction with a valid handler and empty mask is a valid argument;
        // the handler is async-signal-safe (it does nothing).
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = ignore_kick as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            sa.sa_flags = 0;
            libc::sigaction(kick_signal(), &sa, std::ptr::null_mut());
        }
    });
}

pub(crate) fn kick(handle: &JoinHandle<()>) {
    use std::os::unix::thread::JoinHandleExt;
    // SAFETY: the thread has not been joined yet (we hold its handle), so its pthread_t is valid
    // even if it already exited; pthread_kill on such a thread is defined.
    unsafe { libc::pthread_kill(handle.as_pthread_t(), kick_signal()) };
}

/// The longest one wait of a polling engine (epoll, tokio) lasts: short enough to notice a
/// datagram loss in time.
fn tick_for(spec: &Spec) -> Duration {
    if spec.transport.is_datagram() {
        MAX_TICK.min(Duration::from_nanos(
            spec.timing.loss_timeout_ns.max(1_000_000),
        ))
    } else {
        MAX_TICK
    }
}

/// Runs one iteration of `spec` on fresh connections.
///
/// `length` is the iteration's length (the warm-up passes its own); `interrupt` is polled by the
/// watchdog (Ctrl-C). With `--processes` the server side runs in a child process.
pub fn run_iteration(
    spec: &Spec,
    placement: &ResolvedPlacement,
    length: IterationLength,
    interrupt: &AtomicBool,
) -> Result<IterationOutcome> {
    if spec.extras.processes || spec.extras.connect.is_some() {
        return crate::remote::run_iteration(spec, placement, length, interrupt);
    }
    let flows = setup::build(spec, length).context("connecting the client and server")?;
    let connection = flows.connection.clone();
    let _listener = flows.listener;
    let sides = vec![(Side::Server, flows.servers), (Side::Client, flows.clients)];
    let measured = run_local(
        spec,
        placement,
        length,
        interrupt,
        sides,
        &flows.heartbeats,
        None,
    )?;
    measured.into_outcome(spec, connection, Vec::new())
}

/// What the local worker threads of an iteration measured.
pub(crate) struct Measured {
    pub(crate) reports: Vec<WorkerReport>,
    net_rx: Option<Vec<u64>>,
    memory_load: Option<f64>,
}

impl Measured {
    /// Adds reports from elsewhere (a server process) and builds the iteration's outcome.
    pub(crate) fn into_outcome(
        mut self,
        spec: &Spec,
        connection: (ConnInfo, ConnInfo),
        remote: Vec<WorkerReport>,
    ) -> Result<IterationOutcome> {
        self.reports.extend(remote);
        let mut out = collect(spec, self.reports, connection)?;
        out.net_rx_softirqs = self.net_rx;
        out.memory_load_bytes_per_sec = self.memory_load;
        Ok(out)
    }
}

/// Starts a worker thread per group of `sides` (pinned per `placement`), releases them together
/// and watches them until they are done.
pub(crate) fn run_local(
    spec: &Spec,
    placement: &ResolvedPlacement,
    length: IterationLength,
    interrupt: &AtomicBool,
    sides: Vec<(Side, Vec<ThreadFlows>)>,
    heartbeats: &[Heartbeat],
    clients_gone: Option<&AtomicBool>,
) -> Result<Measured> {
    install_kick_handler();
    let engine = engine_for(spec.engine);
    let control = Arc::new(Control::default());
    let threads: usize = sides.iter().map(|(_, g)| g.len()).sum();
    let barrier = Arc::new(Barrier::new(threads + 1));
    let (tx, rx) = mpsc::channel::<WorkerReport>();
    let tick = tick_for(spec);
    let mut handles: Vec<(Side, JoinHandle<()>, bool)> = Vec::new();
    for (side, groups) in sides {
        for (index, group) in groups.into_iter().enumerate() {
            let cpu = match side {
                Side::Client => placement.client_cpu(index),
                Side::Server => placement.server_cpu(index),
            };
            let (control, barrier, tx) = (control.clone(), barrier.clone(), tx.clone());
            let name = format!(
                "lb-{}-{index}",
                if side == Side::Client {
                    "client"
                } else {
                    "server"
                }
            );
            let handle = std::thread::Builder::new()
                .name(name)
                .spawn(move || {
                    let report = worker(index, side, cpu, group, engine, &control, &barrier, tick);
                    let _ = tx.send(report);
                })
                .context("spawning a worker thread")?;
            handles.push((side, handle, false));
        }
    }
    drop(tx);
    let memory_load = match spec.extras.memory_load_cpu {
        Some(cpu) if !length_is_warmup(spec, length) => Some(MemoryLoad::start(cpu)?),
        _ => None,
    };
    let softirqs_before = sched::net_rx_softirqs();
    barrier.wait();
    let limits = Limits {
        deadline: spec.timing.iteration_deadline(length),
        stall: Duration::from_nanos(spec.timing.timeout_ns),
        loss: spec
            .transport
            .is_datagram()
            .then(|| Duration::from_nanos(spec.timing.loss_timeout_ns)),
        servers_end_at_eof: servers_end_at_eof(spec),
    };
    let outcome = watch(
        &control,
        &rx,
        &mut handles,
        heartbeats,
        limits,
        interrupt,
        clients_gone,
    );
    let net_rx = softirqs_before
        .zip(sched::net_rx_softirqs())
        .map(|(b, a)| sched::delta(&b, &a));
    let memory_load = memory_load.map(|m| m.stop()).transpose()?;
    for (_, handle, reported) in handles {
        if reported {
            let _ = handle.join();
        }
    }
    Ok(Measured {
        reports: outcome?,
        net_rx,
        memory_load,
    })
}

/// The warm-up (any length other than the case's own) runs without the memory load: it is
/// there to warm the path, not to measure.
fn length_is_warmup(spec: &Spec, length: IterationLength) -> bool {
    length != spec.timing.length
}

/// Sets the calling thread's timer slack to 1 ns, so timed waits (rate's schedule) wake when
/// asked instead of up to 50 µs later (the default slack).
fn tight_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK takes a plain integer and affects only the calling thread.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0) };
}

#[allow(clippy::too_many_arguments)]
fn worker(
    index: usize,
    side: Side,
    cpu: Option<usize>,
    group: ThreadFlows,
    engine: &dyn crate::engine::Engine,
    control: &Control,
    barrier: &Barrier,
    tick: Duration,
) -> WorkerReport {
    let ThreadFlows {
        mut slots,
        flow_ids,
    } = group;
    let pinned = cpu.map(pin_current_thread).transpose();
    tight_timer_slack();
    barrier.wait();
    let start_cpu = current_cpu();
    let m0 = sched::thread_migrations();
    let t0 = monotonic_ns();
    let u0 = ThreadUsage::now();
    let result = match pinned {
        Ok(_) => engine.drive(&mut slots, control, tick),
        Err(e) => Err(e),
    };
    let mut usage = ThreadUsage::now() - u0;
    let elapsed_ns = monotonic_ns() - t0;
    let migrations = m0
        .zip(sched::thread_migrations())
        .map(|(a, b)| b.saturating_sub(a));
    let end_cpu = current_cpu();
    let result = result.map(|helpers| usage = usage + helpers);
    if result.is_err() {
        control.set(RunState::Abort);
    }
    let flows = slots.into_iter().map(|s| s.flow.report()).collect();
    WorkerReport {
        index,
        side,
        result,
        usage,
        elapsed_ns,
        migrations,
        cpus: [start_cpu, end_cpu],
        flows,
        flow_ids,
    }
}

/// When the watchdog steps in.
#[derive(Clone, Copy, Debug)]
struct Limits {
    /// The whole iteration must end by then (duration-based iterations).
    deadline: Option<Duration>,
    /// Some client flow must complete a message at least this often.
    stall: Duration,
    /// Datagram loss timeout: a client without progress for this long is kicked so it can count
    /// the loss and go on.
    loss: Option<Duration>,
    /// Stream transports: servers finish on their own at end of stream, after draining all data
    /// the clients wrote. Datagram transports have no end of stream: their servers are wound
    /// down (drain what is queued, then stop) once the clients are done.
    servers_end_at_eof: bool,
}

/// Waits for every worker, winding the servers down once the clients are done, and enforcing the
/// deadline, the no-progress limit and the interrupt flag.
fn watch(
    control: &Control,
    rx: &mpsc::Receiver<WorkerReport>,
    handles: &mut [(Side, JoinHandle<()>, bool)],
    heartbeats: &[Heartbeat],
    limits: Limits,
    interrupt: &AtomicBool,
    clients_gone: Option<&AtomicBool>,
) -> Result<Vec<WorkerReport>> {
    let started = Instant::now();
    let clients = handles.iter().filter(|h| h.0 == Side::Client).count();
    let mut reports: Vec<WorkerReport> = Vec::new();
    let mut aborted_at: Option<Instant> = None;
    let mut failure: Option<String> = None;
    let beats = || heartbeats.iter().map(Heartbeat::read).sum::<u64>();
    let (mut last_beats, mut last_move) = (beats(), Instant::now());
    let mut last_loss_kick = Instant::now();
    let mut clients_done_at: Option<Instant> = None;
    while reports.len() < handles.len() {
        match rx.recv_timeout(WATCH_INTERVAL) {
            Ok(r) => {
                if let Some(h) = handles
                    .iter_mut()
                    .find(|h| h.0 == r.side && !h.2 && index_of(h, &r))
                {
                    h.2 = true;
                }
                reports.push(r);
                if clients_done_at.is_none()
                    && reports.iter().filter(|r| r.side == Side::Client).count() == clients
                {
                    clients_done_at = Some(Instant::now());
                    if !limits.servers_end_at_eof {
                        control.set(RunState::WindDown);
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if interrupt.load(Ordering::Relaxed) {
            control.set(RunState::Abort);
        }
        // A server process: its clients are in another process, which says when they are done.
        if clients == 0 && clients_done_at.is_none() {
            if clients_gone.is_some_and(|g| g.load(Ordering::Relaxed)) {
                clients_done_at = Some(Instant::now());
                if !limits.servers_end_at_eof {
                    control.set(RunState::WindDown);
                }
            } else {
                last_move = Instant::now();
            }
        }
        let now_beats = beats();
        if now_beats != last_beats {
            (last_beats, last_move) = (now_beats, Instant::now());
        }
        if failure.is_none() && control.state() == RunState::Running {
            if limits.deadline.is_some_and(|d| started.elapsed() > d) {
                failure = Some(format!(
                    "the iteration did not finish within {:?} (its length + --timeout): a worker is stuck",
                    limits.deadline.unwrap_or_default()
                ));
            } else if let Some(done) = clients_done_at {
                if done.elapsed() > limits.stall {
                    failure = Some(format!(
                        "the server did not reach end of stream within {:?} (--timeout) after the client closed",
                        limits.stall
                    ));
                }
            } else if last_move.elapsed() > limits.stall {
                failure = Some(format!(
                    "no message completed for {:?} (--timeout): the peer is stuck or gone",
                    limits.stall
                ));
            }
            if failure.is_some() {
                control.set(RunState::Abort);
            }
        }
        if let Some(loss) = limits.loss {
            if control.state() == RunState::Running
                && last_move.elapsed() >= loss
                && last_loss_kick.elapsed() >= loss
            {
                last_loss_kick = Instant::now();
                for (side, handle, reported) in handles.iter() {
                    if *side == Side::Client && !reported {
                        kick(handle);
                    }
                }
            }
        }
        if control.state() != RunState::Running {
            // Wake whoever still sleeps in a system call; repeated, because a kick that lands
            // just before a thread blocks is lost.
            for (_, handle, reported) in handles.iter() {
                if !reported {
                    kick(handle);
                }
            }
        }
        if control.state() == RunState::Abort {
            let at = *aborted_at.get_or_insert_with(Instant::now);
            if at.elapsed() > ABORT_GRACE {
                return Err(anyhow!(
                    "{} worker thread(s) did not stop within {ABORT_GRACE:?} of being aborted; they were abandoned",
                    handles.len() - reports.len()
                ));
            }
        }
    }
    if let Some(f) = failure {
        return Err(anyhow!(f));
    }
    if interrupt.load(Ordering::Relaxed) {
        return Err(crate::runner::Interrupted.into());
    }
    Ok(reports)
}

fn index_of(h: &(Side, JoinHandle<()>, bool), r: &WorkerReport) -> bool {
    h.1.thread()
        .name()
        .is_some_and(|n| n.ends_with(&format!("-{}", r.index)))
}

fn collect(
    spec: &Spec,
    reports: Vec<WorkerReport>,
    connection: (ConnInfo, ConnInfo),
) -> Result<IterationOutcome> {
    // The root cause is the first error that is not just "stopped because another failed".
    let mut first_abort = None;
    for r in &reports {
        if let Err(e) = &r.result {
            if e.downcast_ref::<Aborted>().is_none() {
                let side = if r.side == Side::Client {
                    "client"
                } else {
                    "server"
                };
                return Err(anyhow!("{side} worker {}: {e:#}", r.index));
            }
            first_abort.get_or_insert(());
        }
    }
    if first_abort.is_some() {
        return Err(Aborted.into());
    }
    let mut latency = new_histogram();
    let mut latency_actual: Option<LatencyHistogram> = None;
    let mut schedule: Option<ScheduleStats> = None;
    let mut ports: Option<Box<PortSet>> = None;
    let mut client = SideOutcome::default();
    let mut server = SideOutcome::default();
    let mut flows: Vec<FlowOutcome> = (0..spec.flows as usize)
        .map(|flow| FlowOutcome {
            flow,
            ..FlowOutcome::default()
        })
        .collect();
    let mut seen = [0usize; 2];
    for r in reports {
        let (side, seen) = if r.side == Side::Client {
            (&mut client, &mut seen[0])
        } else {
            (&mut server, &mut seen[1])
        };
        side.usage = side.usage + r.usage;
        side.elapsed_ns = side.elapsed_ns.max(r.elapsed_ns);
        side.cpus.extend(r.cpus.iter().flatten());
        // Known only when every thread of the side knows its own.
        side.migrations = match (*seen, side.migrations, r.migrations) {
            (0, _, m) => m,
            (_, Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        *seen += 1;
        for (f, id) in r.flows.into_iter().zip(r.flow_ids) {
            side.counters += f.counters;
            let per_flow = &mut flows[id];
            if r.side == Side::Client {
                per_flow.client = f.counters;
                per_flow.threads.0 = r.index;
                per_flow.latency = f.latency.as_ref().map(LatencySummary::of);
            } else {
                per_flow.server = f.counters;
                per_flow.threads.1 = r.index;
            }
            if let Some(h) = f.latency {
                latency.add(&h).context("merging flow histograms")?;
            }
            if let Some(h) = f.latency_actual {
                latency_actual
                    .get_or_insert_with(new_histogram)
                    .add(&h)
                    .context("merging flow histograms")?;
            }
            if let Some(s) = f.schedule {
                schedule.get_or_insert_with(ScheduleStats::default).add(&s);
            }
            if let Some(p) = f.ports {
                ports.get_or_insert_with(Box::default).merge(&p);
            }
            series::merge(&mut side.slices, &f.slices);
            side.receive_span_ns = side.receive_span_ns.max(f.receive_span_ns.unwrap_or(0));
        }
    }
    for side in [&mut client, &mut server] {
        side.cpus.sort_unstable();
        side.cpus.dedup();
    }
    let throughput = if let Some(sched) = &schedule {
        // Open loop: responses completed over the span from the first intended send to the
        // last response.
        Throughput {
            messages: sched.completed,
            bytes: client.counters.bytes_received + server.counters.bytes_received,
            elapsed_ns: sched.span_ns.max(1),
        }
    } else if counted_by_server(spec.workload) {
        Throughput {
            messages: server.counters.messages,
            bytes: server.counters.bytes_received,
            elapsed_ns: server.receive_span_ns,
        }
    } else {
        Throughput {
            messages: client.counters.messages,
            bytes: client.counters.bytes_received + server.counters.bytes_received,
            elapsed_ns: client.elapsed_ns,
        }
    };
    Ok(IterationOutcome {
        latency,
        throughput,
        client,
        server,
        connection,
        latency_actual,
        flows,
        schedule,
        ports,
        net_rx_softirqs: None,
        memory_load_bytes_per_sec: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placement::Topology;
    use crate::spec::{EngineKind, Placement, Transport};

    fn quick(transport: Transport, engine: EngineKind) -> Spec {
        let mut spec = Spec::new(transport);
        spec.engine = engine;
        spec.timing.iterations = 1;
        spec
    }

    fn placement(p: Placement) -> ResolvedPlacement {
        Topology::detect().resolve(p).unwrap()
    }

    #[test]
    fn every_transport_completes_a_counted_iteration_with_both_engines() {
        let never = AtomicBool::new(false);
        for &t in Transport::ALL {
            for e in [EngineKind::Blocking, EngineKind::Spin] {
                let mut spec = quick(t, e);
                // One request in flight is never lost on loopback; a spinning client preempted
                // on a busy machine must not count a late answer as lost.
                spec.timing.loss_timeout_ns = spec.timing.timeout_ns;
                let out = run_iteration(
                    &spec,
                    &placement(Placement::Unpinned),
                    IterationLength::Count { messages: 300 },
                    &never,
                )
                .unwrap_or_else(|err| panic!("{t} {e}: {err:#}"));
                assert_eq!(out.latency.len(), 300, "{t} {e}");
                assert_eq!(out.client.counters.messages, 300, "{t} {e}");
                assert_eq!(out.server.counters.messages, 300, "{t} {e}");
            }
        }
    }

    #[test]
    fn stream_counts_every_chunk_at_the_receiver_with_both_engines() {
        let never = AtomicBool::new(false);
        for &t in Transport::ALL {
            for e in [EngineKind::Blocking, EngineKind::Spin] {
                let mut spec = quick(t, e);
                spec.workload = crate::spec::Workload::Stream;
                spec.size = 4096;
                let out = run_iteration(
                    &spec,
                    &placement(Placement::Unpinned),
                    IterationLength::Count { messages: 2000 },
                    &never,
                )
                .unwrap_or_else(|err| panic!("{t} {e}: {err:#}"));
                let (sent, got) = (out.client.counters.messages, out.server.counters);
                assert_eq!(sent, 2000, "{t} {e}");
                if t.is_datagram() {
                    assert!(got.messages + got.lost <= sent, "{t} {e}: {got:?}");
                } else {
                    assert_eq!(got.messages, sent, "{t} {e}");
                    assert_eq!(got.bytes_received, sent * 4096, "{t} {e}");
                }
                assert_eq!(
                    out.throughput.bytes, got.bytes_received,
                    "{t} {e}: counted at the receiver"
                );
                // Two receptions make a span (a spinning UDP sender on a loaded machine can fill
                // the receive queue before the receiver first runs).
                assert!(
                    got.messages < 2 || out.throughput.elapsed_ns > 0,
                    "{t} {e}: {got:?}"
                );
                let sliced: u64 = out.server.slices.iter().map(|s| s.bytes).sum();
                assert_eq!(sliced, got.bytes_received, "{t} {e}");
            }
        }
    }

    #[test]
    fn pinned_workers_run_where_they_were_put() {
        let never = AtomicBool::new(false);
        let spec = quick(Transport::UnixStream, EngineKind::Blocking);
        let p = placement(Placement::SameCore);
        let out =
            run_iteration(&spec, &p, IterationLength::Count { messages: 50 }, &never).unwrap();
        assert_eq!(out.client.cpus, p.client);
        assert_eq!(out.server.cpus, p.server);
    }

    #[test]
    fn a_stuck_server_is_reported_not_waited_for_forever() {
        // The server takes 50 ms per answer but the client gives up after 10 ms, on a pipe (no
        // socket timeout: only the watchdog's kick can wake it) and on TCP.
        let never = AtomicBool::new(false);
        for t in [Transport::Pipe, Transport::Tcp4] {
            let mut spec = quick(t, EngineKind::Blocking);
            spec.server_delay_ns = 50_000_000;
            spec.timing.timeout_ns = 10_000_000;
            let started = Instant::now();
            let err = run_iteration(
                &spec,
                &placement(Placement::Unpinned),
                IterationLength::Count { messages: 3 },
                &never,
            )
            .err()
            .expect("must fail");
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{t}: took {:?}",
                started.elapsed()
            );
            let text = format!("{err:#}");
            assert!(
                text.contains("stuck") || text.contains("no response"),
                "{t}: {text}"
            );
        }
    }

    #[test]
    fn an_interrupt_stops_the_iteration() {
        let interrupted = AtomicBool::new(true);
        let spec = quick(Transport::Pipe, EngineKind::Blocking);
        let err = run_iteration(
            &spec,
            &placement(Placement::Unpinned),
            IterationLength::Duration {
                duration_ns: 60_000_000_000,
            },
            &interrupted,
        )
        .err()
        .expect("must be interrupted");
        assert!(
            err.downcast_ref::<crate::runner::Interrupted>().is_some()
                || err.downcast_ref::<Aborted>().is_some(),
            "{err:#}"
        );
    }
}
