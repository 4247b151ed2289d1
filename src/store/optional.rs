//! The parts of run.json that only some cases have: per-flow results, `rate`'s schedule, `crr`'s
//! connection and port accounting, and the `--memory-load` stream. Each is absent (or empty)
//! when it does not apply, so older readers and older files keep working.

use serde::{Deserialize, Serialize};

use crate::metrics::canary::CanaryFigures;
use crate::metrics::interference::Interference;
use crate::metrics::schedule::ScheduleStats;
use crate::store::trust::{CaseTrust, Disturbance};

/// Share of the target rate a `rate` case must complete to count as sustained.
pub const SUSTAINED_SHARE: f64 = 0.95;

/// One flow of a multi-flow iteration (or its sum over a case's iterations).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FlowRecord {
    /// Flow index.
    pub flow: u32,
    /// The client worker thread that drove it.
    pub client_thread: u32,
    /// The server worker thread that drove it.
    pub server_thread: u32,
    /// Messages counted where the workload counts them (client for request/response, server
    /// for stream).
    pub messages: u64,
    /// Payload bytes received (both directions for request/response).
    pub bytes: u64,
    /// Datagrams lost.
    pub lost: u64,
    /// `messages` per second over the iteration (or the case).
    pub msgs_per_sec: f64,
    /// Median latency of the flow (iterations only; 0 without latency).
    #[serde(default)]
    pub p50_ns: u64,
    /// 99th percentile latency of the flow (iterations only).
    #[serde(default)]
    pub p99_ns: u64,
}

/// Jain's fairness index of per-flow message counts: 1 when every flow got the same share,
/// 1/n when one flow got everything.
pub fn fairness(flows: &[FlowRecord]) -> Option<f64> {
    let sum: f64 = flows.iter().map(|f| f.messages as f64).sum();
    let squares: f64 = flows.iter().map(|f| (f.messages as f64).powi(2)).sum();
    (flows.len() > 1 && squares > 0.0).then(|| sum * sum / (flows.len() as f64 * squares))
}

/// How an open-loop (`rate`) case kept its schedule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RateRecord {
    /// Requests per second asked for, over all flows.
    pub target_per_sec: f64,
    /// Responses completed per second, from the first intended send to the last response.
    pub achieved_per_sec: f64,
    /// Requests sent.
    pub sent: u64,
    /// Responses received in time.
    pub completed: u64,
    /// Datagram requests never answered within the loss timeout.
    pub lost: u64,
    /// Largest delay of a send behind its schedule (ns).
    pub max_send_lag_ns: u64,
    /// Times a sender waited because `--max-in-flight` requests were outstanding.
    pub window_full: u64,
    /// False when the target could not be sustained: fewer than 95 % of the target rate
    /// completed (the latency histograms then describe an overloaded system).
    pub sustained: bool,
}

impl RateRecord {
    /// The record of a schedule (summed over flows) that ran over `stats.span_ns`.
    pub fn of(stats: &ScheduleStats) -> RateRecord {
        let achieved = crate::metrics::per_sec(stats.completed, stats.span_ns);
        RateRecord {
            target_per_sec: stats.target_per_sec,
            achieved_per_sec: achieved,
            sent: stats.sent,
            completed: stats.completed,
            lost: stats.lost,
            max_send_lag_ns: stats.max_send_lag_ns,
            window_full: stats.window_full,
            sustained: achieved >= SUSTAINED_SHARE * stats.target_per_sec,
        }
    }

    /// Merges iterations: totals add up, the rate is recomputed over the summed time.
    pub fn merge(iterations: &[(RateRecord, u64)]) -> Option<RateRecord> {
        let (first, _) = iterations.first()?;
        let mut s = ScheduleStats {
            target_per_sec: first.target_per_sec,
            ..ScheduleStats::default()
        };
        for (r, elapsed) in iterations {
            s.sent += r.sent;
            s.completed += r.completed;
            s.lost += r.lost;
            s.span_ns += elapsed;
            s.max_send_lag_ns = s.max_send_lag_ns.max(r.max_send_lag_ns);
            s.window_full += r.window_full;
        }
        Some(RateRecord::of(&s))
    }
}

/// How `crr` used connections and ports.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ConnectionRecord {
    /// Connections completed (one per transaction).
    pub connections: u64,
    /// connect() attempts that failed with EADDRNOTAVAIL (ephemeral ports exhausted).
    pub addr_not_avail: u64,
    /// Distinct local (client) ports used (the largest iteration, in a summary).
    pub ports_used: u64,
    /// net.ipv4.ip_local_port_range when the case ran.
    pub ephemeral_port_range: Option<(u16, u16)>,
    /// Client source addresses the connections were spread over (1 without --spread).
    pub source_addresses: usize,
    /// How connections were closed: "fin" (the client keeps TIME_WAIT for 60 s) or "linger0"
    /// (SO_LINGER 0: an RST, no TIME_WAIT).
    pub close: String,
}

impl ConnectionRecord {
    /// Merges iterations: counts add up, the port count is the largest.
    pub fn merge(iterations: &[&ConnectionRecord]) -> Option<ConnectionRecord> {
        let mut out = (*iterations.first()?).clone();
        for r in &iterations[1..] {
            out.connections += r.connections;
            out.addr_not_avail += r.addr_not_avail;
            out.ports_used = out.ports_used.max(r.ports_used);
        }
        Some(out)
    }
}

/// The competing memcpy stream of `--memory-load`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MemoryLoadRecord {
    /// The CPU it ran on.
    pub cpu: usize,
    /// Copy bandwidth it achieved (bytes per second; each byte read once and written once).
    pub bytes_per_sec: f64,
    /// Workers that shared its CPU ("client", "server"): then it competes for the CPU itself,
    /// not only for memory bandwidth.
    pub collides_with: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fairness_is_one_for_equal_flows_and_falls_with_skew() {
        let f = |m: u64| FlowRecord {
            messages: m,
            ..FlowRecord::default()
        };
        assert_eq!(fairness(&[f(10), f(10), f(10)]), Some(1.0));
        let skewed = fairness(&[f(30), f(0), f(0)]).unwrap();
        assert!((skewed - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(fairness(&[f(5)]), None);
    }

    #[test]
    fn a_rate_below_95_percent_of_target_is_not_sustained() {
        let stats = |completed| ScheduleStats {
            target_per_sec: 1000.0,
            sent: 1000,
            completed,
            span_ns: 1_000_000_000,
            ..ScheduleStats::default()
        };
        assert!(RateRecord::of(&stats(1000)).sustained);
        assert!(RateRecord::of(&stats(960)).sustained);
        let r = RateRecord::of(&stats(900));
        assert!(!r.sustained);
        assert_eq!(r.achieved_per_sec, 900.0);
        let merged = RateRecord::merge(&[
            (r, 1_000_000_000),
            (RateRecord::of(&stats(1000)), 1_000_000_000),
        ])
        .unwrap();
        assert_eq!(merged.completed, 1900);
        assert_eq!(merged.achieved_per_sec, 950.0);
    }
}

/// What an iteration has besides the fields every case has (flattened into the iteration's
/// JSON object).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct IterationExtras {
    /// `rate`: latency from the actual send time (`latency` is from the intended one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_actual: Option<LatencySummary>,
    /// Per flow, when the case has more than one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<FlowRecord>,
    /// `rate`: the schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<RateRecord>,
    /// `crr`: connections and ports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<ConnectionRecord>,
    /// NET_RX softirqs per CPU (index = CPU) during the iteration; null when /proc/softirqs
    /// is unavailable.
    #[serde(default)]
    pub net_rx_softirqs: Option<Vec<u64>>,
    /// `--memory-load`: the competing copy stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_load: Option<MemoryLoadRecord>,
    /// `--stages`: each user-space stage's median (ns), in path order.
    #[serde(default, skip_serializing_if = "StageMap::is_empty")]
    pub stages: StageMap<u64>,
    /// `--trace`: each kernel stage's median (ns), `request.<stage>` / `response.<stage>`.
    #[serde(default, skip_serializing_if = "StageMap::is_empty")]
    pub kernel_stages: StageMap<u64>,
    /// `--stages`: how many messages the stages cover.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_coverage: Option<StageCoverage>,
    /// `--stages`: each stage's mean over the round trips in a band around the median RTT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_band: Option<BandStages>,
    /// `--stages`: the round trips split by whether the server ran inside the client's send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_paths: Option<PathSplit>,
    /// `--trace`: what the tracer saw and could attribute in this iteration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_trace: Option<KernelTraceRecord>,
    /// The drift canary taken on the workers' CPUs right before the iteration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<CanaryFigures>,
    /// Steal, foreign CPU time, interrupts and softirqs on the workers' CPUs during it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interference: Option<Interference>,
    /// Why it counts as disturbed (empty: it does not).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disturbed: Vec<Disturbance>,
    /// Against a service: latency per request kind, HTTP status codes, TCP_INFO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<crate::store::service::ServiceRecord>,
}

/// What a case summary has besides the fields every case has (flattened).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SummaryExtras {
    /// `rate`: merged latency from the actual send time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_actual: Option<LatencySummary>,
    /// Per flow, summed over iterations, when the case has more than one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<FlowRecord>,
    /// Jain's fairness index of the per-flow message counts (multi-flow cases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_fairness: Option<f64>,
    /// `rate`: the schedule over all iterations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<RateRecord>,
    /// `crr`: connections and ports over all iterations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<ConnectionRecord>,
    /// NET_RX softirqs per CPU, summed over iterations.
    #[serde(default)]
    pub net_rx_softirqs: Option<Vec<u64>>,
    /// `--memory-load`: mean bandwidth of the competing copy over iterations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_load: Option<MemoryLoadRecord>,
    /// `--stages`: the user-space stages of a round trip, in path order.
    #[serde(default, skip_serializing_if = "StageMap::is_empty")]
    pub stages: StageMap<StageSummary>,
    /// `--trace`: the kernel stages, `request.<stage>` / `response.<stage>`.
    #[serde(default, skip_serializing_if = "StageMap::is_empty")]
    pub kernel_stages: StageMap<StageSummary>,
    /// `--stages`: how many messages the stages cover, over all iterations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_coverage: Option<StageCoverage>,
    /// `--stages`: the typical round trip decomposed, each stage's mean over the round trips in
    /// each iteration's band around its median RTT (pooled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_band: Option<BandStages>,
    /// `--stages`: the round trips split by whether the server ran inside the client's send,
    /// with each stage's median per group (over all iterations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_paths: Option<PathSplit>,
    /// The round trip nearest the case's median, stage by stage across the two CPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typical_round_trip: Option<Timeline>,
    /// `--stages` with `--trace`: the kernel's typical round trip (nearest the kernel view's
    /// median; another message than `typical_round_trip`, whose spans are the user-space ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typical_kernel_round_trip: Option<Timeline>,
    /// `--trace`: what the tracer saw and could attribute, over all iterations, and its cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_trace: Option<KernelTraceRecord>,
    /// `--profile`: where the workers' CPUs went, by category and side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_profile: Option<CpuProfileRecord>,
    /// How many iterations were disturbed and why, the case's canary, the precision reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<CaseTrust>,
    /// Against a service: latency per request kind over all iterations, HTTP status codes,
    /// TCP_INFO, and its diagnosis in the case's notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<crate::store::service::ServiceRecord>,
}

use crate::metrics::histogram::LatencySummary;
use crate::store::kernel::{CpuProfileRecord, KernelTraceRecord};
use crate::store::stage_split::{BandStages, PathSplit};
use crate::store::stages::{StageCoverage, StageMap, StageSummary, Timeline};
