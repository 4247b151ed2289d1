//! One iteration: connect fresh pairs, start pinned client and server threads behind a barrier,
//! let the engine drive them, and watch over them so that nothing can hang.
//!
//! The watchdog has two tools: the shared [`Control`] (engines look at it whenever a flow cannot
//! progress), and a signal ("kick") that interrupts any blocking system call on any transport.
//! Measured connections carry no receive timeout (that would arm a kernel timer on every sleep);
//! instead the watchdog kicks a blocked client when a datagram may be lost, and every worker
//! when the servers must wind down or the iteration is aborted.
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::engine::{Control, RunState, engine_for};
use crate::host::topology::{ResolvedPlacement, current_cpu, pin_current_thread};
use crate::metrics::clock::monotonic_ns;
use crate::metrics::memload::MemoryLoad;
use crate::metrics::rusage::ThreadUsage;
use crate::metrics::sched;
use crate::spec::{IterationLength, Spec};
use crate::transport::ConnInfo;
use crate::workload::{Heartbeat, servers_end_at_eof};
use flows::ThreadFlows;

pub mod flows;
mod outcome;
pub mod process;
mod watch;

pub use outcome::{FlowOutcome, IterationOutcome, Side, SideOutcome, Throughput};
pub(crate) use outcome::{WorkerReport, collect};
pub(crate) use watch::{Limits, Progress, install_kick_handler, kick, watch};

/// Longest one blocking wait sleeps before looking at the control.
const MAX_TICK: Duration = Duration::from_millis(100);

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
        return crate::run::worker::process::run_iteration(spec, placement, length, interrupt);
    }
    let flows = flows::build(spec, length).context("connecting the client and server")?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Aborted;
    use crate::host::topology::Topology;
    use crate::spec::{EngineKind, Placement, Transport};
    use std::time::Instant;

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
            err.downcast_ref::<crate::run::runner::Interrupted>()
                .is_some()
                || err.downcast_ref::<Aborted>().is_some(),
            "{err:#}"
        );
    }
}
