//! What an iteration measured: the outcome types, and what each worker reports (merged by
//! [`super::merge`]).

use anyhow::Result;

use crate::engine::FlowReport;
use crate::metrics::counters::Counters;
use crate::metrics::histogram::{LatencyHistogram, LatencySummary};
use crate::metrics::ports::PortSet;
use crate::metrics::rusage::ThreadUsage;
use crate::metrics::schedule::ScheduleStats;
use crate::metrics::series::Slice;
use crate::metrics::stages::{PathSets, StageSet};
use crate::store::stage_split::BandStages;
use crate::store::stages::{StageCoverage, Timeline};
use crate::transport::ConnInfo;

pub use super::side::Side;

/// What one side measured over an iteration, summed over its threads and flows.
#[derive(Clone, Debug, Default)]
pub struct SideOutcome {
    /// CPU time and context switches of the side's threads during the measured loop.
    pub usage: ThreadUsage,
    /// The part of `usage` spent in threads the engine started for the side (io_uring's
    /// SQPOLL thread, tokio-mt's runtime workers).
    pub engine_threads: ThreadUsage,
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
    /// `--stages`: the user-space stages of its round trips.
    pub stages: Option<IterationStages>,
    /// `--trace`, `--profile`: what the kernel recorded on the workers' CPUs.
    pub kernel: Option<super::probes::KernelOutcome>,
    /// Clients of a service: per-kind histograms, HTTP status codes, TCP_INFO, all flows.
    pub service: Option<crate::metrics::service::ServiceMeasure>,
}

/// What an iteration's stage stamps measured: the stages' histograms, how many messages they
/// cover, and the round trip nearest the iteration's median.
#[derive(Clone, Debug, Default)]
pub struct IterationStages {
    /// One histogram per stage, in path order.
    pub set: StageSet,
    /// Messages matched, lost, or past the stamp logs' room.
    pub coverage: StageCoverage,
    /// The round trip nearest the iteration's median, stage by stage.
    pub typical: Option<Timeline>,
    /// Each stage's mean over the round trips in the band around the median RTT.
    pub band: Option<BandStages>,
    /// The stages split by whether the server ran inside the client's send call.
    pub paths: PathSets,
}

/// What one worker thread reports at its end (or a server process, for each of its threads).
pub(crate) struct WorkerReport {
    pub(crate) index: usize,
    pub(crate) side: Side,
    pub(crate) result: Result<()>,
    pub(crate) usage: ThreadUsage,
    /// The part of `usage` spent in threads the engine started (io_uring's SQPOLL thread,
    /// tokio-mt's runtime workers).
    pub(crate) engine_threads: ThreadUsage,
    pub(crate) elapsed_ns: u64,
    pub(crate) migrations: Option<u64>,
    pub(crate) cpus: [Option<usize>; 2],
    pub(crate) flows: Vec<FlowReport>,
    pub(crate) flow_ids: Vec<usize>,
}
