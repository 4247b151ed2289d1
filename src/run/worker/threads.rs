//! The local half of an iteration: a worker thread per group of flows, pinned, released
//! together behind a barrier, driven by the case's engine and watched until done.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Result;

use super::flows::ThreadFlows;
use super::merge::collect;
use super::outcome::{IterationOutcome, Side, WorkerReport};
use super::probes::{self, KernelOutcome, Probes};
use super::watch::{Limits, Watched, install_kick_handler, watch};
use crate::engine::{Control, RunState, engine_for};
use crate::host::pinned::{self, PinnedThread, current_cpu};
use crate::host::topology::ResolvedPlacement;
use crate::metrics::clock::monotonic_ns;
use crate::metrics::memload::MemoryLoad;
use crate::metrics::rusage::ThreadUsage;
use crate::metrics::sched;
use crate::spec::{IterationLength, Spec};
use crate::transport::ConnInfo;
use crate::workload::{Heartbeat, servers_end_at_eof};

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

/// What the local worker threads of an iteration measured.
pub(crate) struct Measured {
    pub(crate) reports: Vec<WorkerReport>,
    net_rx: Option<Vec<u64>>,
    memory_load: Option<f64>,
    kernel: Option<KernelOutcome>,
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
        out.kernel = self.kernel;
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
    let fds = descriptors(&sides);
    let control = Arc::new(Control::default());
    let (tx, rx) = mpsc::channel::<WorkerReport>();
    let (threads, who): (Vec<_>, Vec<_>) = worker_threads(spec, placement, sides, &control, tx)
        .into_iter()
        .unzip();
    let held = pinned::start(threads)?;
    let watched = who
        .iter()
        .zip(held.tids())
        .filter_map(|(&(side, index), &tid)| {
            let cpu = match side {
                Side::Client => placement.client_cpu(index),
                Side::Server => placement.server_cpu(index),
            }?;
            let mut own: Vec<i64> = fds
                .iter()
                .filter(|f| f.0 == (side, index))
                .map(|f| f.1)
                .collect();
            own.sort_unstable();
            own.dedup();
            Some(probes::Watched {
                side,
                tid,
                cpu,
                fds: own,
            })
        })
        .collect();
    let mut probes = Probes::open(spec, length, watched)?;
    let memory_load = match spec.interference.memory_load_cpu {
        Some(cpu) if !length_is_warmup(spec, length) => Some(MemoryLoad::start(cpu)?),
        _ => None,
    };
    let softirqs_before = sched::net_rx_softirqs();
    if let Some(p) = &mut probes {
        p.enable()?;
    }
    let mut workers: Vec<Watched> = who
        .into_iter()
        .zip(held.release())
        .map(|((side, index), handle)| Watched {
            side,
            index,
            handle,
            reported: false,
        })
        .collect();
    let limits = limits(spec, length);
    let outcome = watch(
        &control,
        &rx,
        &mut workers,
        heartbeats,
        limits,
        interrupt,
        clients_gone,
    );
    let net_rx = softirqs_before
        .zip(sched::net_rx_softirqs())
        .map(|(b, a)| sched::delta(&b, &a));
    let kernel = probes.map(Probes::finish).transpose()?;
    let memory_load = memory_load.map(|m| m.stop()).transpose()?;
    for w in workers.into_iter().filter(|w| w.reported) {
        let _ = w.handle.join();
    }
    Ok(Measured {
        reports: outcome?,
        net_rx,
        memory_load,
        kernel,
    })
}

/// The descriptors each worker thread's flows read and write, by (side, thread index).
fn descriptors(sides: &[(Side, Vec<ThreadFlows>)]) -> Vec<((Side, usize), i64)> {
    let mut out = Vec::new();
    for (side, groups) in sides {
        for (index, group) in groups.iter().enumerate() {
            for slot in &group.slots {
                for fd in [slot.conn.read_fd(), slot.conn.write_fd()]
                    .into_iter()
                    .flatten()
                {
                    out.push(((*side, index), i64::from(fd)));
                }
            }
        }
    }
    out
}

/// A worker thread per group of `sides`, on the group's CPU, sending its report on `tx`; each
/// with its side and index.
fn worker_threads(
    spec: &Spec,
    placement: &ResolvedPlacement,
    sides: Vec<(Side, Vec<ThreadFlows>)>,
    control: &Arc<Control>,
    tx: mpsc::Sender<WorkerReport>,
) -> Vec<(PinnedThread<()>, (Side, usize))> {
    let engine = spec.engine_choice();
    let tick = tick_for(spec);
    let mut threads = Vec::new();
    for (side, groups) in sides {
        for (index, group) in groups.into_iter().enumerate() {
            let cpu = match side {
                Side::Client => placement.client_cpu(index),
                Side::Server => placement.server_cpu(index),
            };
            let (control, tx) = (control.clone(), tx.clone());
            let name = format!("lb-{}-{index}", side.name());
            let thread = PinnedThread::new(name, cpu, move || {
                let engine = engine_for(engine);
                let _ = tx.send(worker(index, side, group, &*engine, &control, tick));
            });
            threads.push((thread, (side, index)));
        }
    }
    threads
}

/// When the watchdog steps in for an iteration of `spec` of `length`.
fn limits(spec: &Spec, length: IterationLength) -> Limits {
    Limits {
        deadline: spec.timing.iteration_deadline(length),
        stall: Duration::from_nanos(spec.timing.timeout_ns),
        loss: spec
            .transport
            .is_datagram()
            .then(|| Duration::from_nanos(spec.timing.loss_timeout_ns)),
        servers_end_at_eof: servers_end_at_eof(spec),
    }
}

/// The warm-up (any length other than the case's own) runs without the memory load: it is
/// there to warm the path, not to measure.
fn length_is_warmup(spec: &Spec, length: IterationLength) -> bool {
    length != spec.timing.length
}

/// One worker thread, once pinned and released: drives its flows under the engine and reports
/// what they measured.
fn worker(
    index: usize,
    side: Side,
    group: ThreadFlows,
    engine: &dyn crate::engine::Engine,
    control: &Control,
    tick: Duration,
) -> WorkerReport {
    let ThreadFlows {
        mut slots,
        flow_ids,
    } = group;
    let start_cpu = current_cpu();
    let m0 = sched::thread_migrations();
    let t0 = monotonic_ns();
    let u0 = ThreadUsage::now();
    let result = engine.drive(&mut slots, control, tick);
    let mut usage = ThreadUsage::now() - u0;
    let elapsed_ns = monotonic_ns() - t0;
    let migrations = m0
        .zip(sched::thread_migrations())
        .map(|(a, b)| b.saturating_sub(a));
    let end_cpu = current_cpu();
    let mut engine_threads = ThreadUsage::default();
    let result = result.map(|helpers| {
        usage = usage + helpers;
        engine_threads = helpers;
    });
    if result.is_err() {
        control.set(RunState::Abort);
    }
    let flows = slots.into_iter().map(|s| s.flow.report()).collect();
    WorkerReport {
        index,
        side,
        result,
        usage,
        engine_threads,
        elapsed_ns,
        migrations,
        cpus: [start_cpu, end_cpu],
        flows,
        flow_ids,
    }
}
