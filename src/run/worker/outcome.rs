//! What an iteration measured: the outcome types, and how the workers' reports are merged.

use anyhow::{Context, Result, anyhow};

use crate::engine::{Aborted, FlowReport};
use crate::metrics::counters::Counters;
use crate::metrics::histogram::{LatencyHistogram, LatencySummary, new_histogram};
use crate::metrics::ports::PortSet;
use crate::metrics::rusage::ThreadUsage;
use crate::metrics::schedule::ScheduleStats;
use crate::metrics::series::{self, Slice};
use crate::spec::Spec;
use crate::transport::ConnInfo;
use crate::workload::counted_by_server;

/// Which side a worker thread is on.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Sends requests, records latency.
    Client,
    /// Answers.
    Server,
}

impl Side {
    /// `client` or `server`.
    pub fn name(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
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

pub(crate) fn collect(
    spec: &Spec,
    reports: Vec<WorkerReport>,
    connection: (ConnInfo, ConnInfo),
) -> Result<IterationOutcome> {
    // The root cause is the first error that is not just "stopped because another failed".
    let mut first_abort = None;
    for r in &reports {
        if let Err(e) = &r.result {
            if e.downcast_ref::<Aborted>().is_none() {
                return Err(anyhow!("{} worker {}: {e:#}", r.side.name(), r.index));
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
