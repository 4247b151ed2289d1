//! Turns what an iteration measured into its record, merges a case's iterations into its summary,
//! and derives the optional parts of both ([`IterationExtras`],
//! [`SummaryExtras`]) from what an iteration measured: per-flow results, NET_RX softirqs per CPU,
//! the memory load, the workload's own part (`rate`'s schedule, `crr`'s connections and ports,
//! filled by its [`WorkloadDef::record`](crate::workload::WorkloadDef::record)), and the notes a
//! reader needs (a memory load sharing a worker's CPU, counters this kernel lacks).

use crate::host::topology::ResolvedPlacement;
use crate::metrics::histogram::{LatencyHistogram, LatencySummary};
use crate::metrics::per_sec;
use crate::metrics::rusage::SideUsage;
use crate::run::worker::{IterationOutcome, SideOutcome, Throughput};
use crate::spec::{EngineKind, Spec};
use crate::store::optional::{
    ConnectionRecord, FlowRecord, IterationExtras, MemoryLoadRecord, RateRecord, SummaryExtras,
    fairness,
};
use crate::store::record::{CaseSummary, IterationRecord, MemcpyReference, SideRecord, Spread};
use crate::store::stage_split::{BandStages, PathSplit};
use crate::store::stages::StageCoverage;
use crate::workload::{self, Measured, counted_by_server};

/// Which workers share `cpu` with the memory load.
fn collisions(cpu: usize, cpus: &ResolvedPlacement) -> Vec<String> {
    let mut out = Vec::new();
    if cpus.client.contains(&cpu) {
        out.push("client".to_string());
    }
    if cpus.server.contains(&cpu) {
        out.push("server".to_string());
    }
    out
}

/// A CPU both sides are pinned to while they busy-poll, if any.
fn busy_polled_shared_cpu(spec: &Spec, cpus: &ResolvedPlacement) -> Option<usize> {
    if spec.engine != EngineKind::Spin {
        return None;
    }
    cpus.client
        .iter()
        .copied()
        .find(|c| cpus.server.contains(c))
}

/// Notes a case carries from the start: what its options mean on this machine.
pub fn case_notes(spec: &Spec, cpus: &ResolvedPlacement) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(cpu) = spec.interference.memory_load_cpu {
        let shared = collisions(cpu, cpus);
        if !shared.is_empty() {
            notes.push(format!(
                "--memory-load {cpu} runs on the CPU of the {}: it competes for that CPU's time, not only for memory bandwidth",
                shared.join(" and the ")
            ));
        } else if cpus.client.is_empty() {
            notes.push(format!(
                "--memory-load {cpu} with unpinned workers: the scheduler may put a worker on CPU {cpu}"
            ));
        }
    }
    if let Some(cpu) = busy_polled_shared_cpu(spec, cpus) {
        notes.push(format!(
            "spin with client and server on CPU {cpu}: two busy-polling workers on one CPU only take turns when the scheduler's time slice ends, so this latency measures the scheduler, not loopback (spin across CPUs, or block on one)"
        ));
    }
    if spec.workload == crate::spec::Workload::Rr {
        let env = crate::workload::rr::INJECT_DELAY_ENV;
        match crate::workload::rr::injected_delay() {
            Ok(0) => {}
            Ok(ns) => notes.push(format!(
                "{env} adds {ns} ns to every server answer (fault injection: the case id does not show it)"
            )),
            Err(text) => notes.push(format!(
                "{env}='{text}' is not a duration (e.g. 2us): ignored"
            )),
        }
    }
    if crate::metrics::sched::thread_migrations().is_none() {
        notes.push(
            "CPU migrations are null: this kernel's /proc/thread-self/sched has no se.nr_migrations (CONFIG_SCHED_DEBUG off)"
                .into(),
        );
    }
    notes
}

/// The optional parts of an iteration record.
pub fn iteration(spec: &Spec, cpus: &ResolvedPlacement, out: &IterationOutcome) -> IterationExtras {
    let server_counts = counted_by_server(spec.workload);
    let elapsed = out.throughput.elapsed_ns;
    let flows = if spec.flows > 1 {
        out.flows
            .iter()
            .map(|f| {
                let counted = if server_counts { &f.server } else { &f.client };
                let messages = counted.messages;
                FlowRecord {
                    flow: f.flow as u32,
                    client_thread: f.threads.0 as u32,
                    server_thread: f.threads.1 as u32,
                    messages,
                    bytes: if server_counts {
                        f.server.bytes_received
                    } else {
                        f.client.bytes_received + f.server.bytes_received
                    },
                    lost: f.client.lost + f.server.lost,
                    msgs_per_sec: per_sec(messages, elapsed),
                    p50_ns: f.latency.map_or(0, |l| l.p50_ns),
                    p99_ns: f.latency.map_or(0, |l| l.p99_ns),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut extras = IterationExtras {
        latency_actual: out
            .latency_actual
            .as_ref()
            .map(crate::metrics::histogram::LatencySummary::of),
        flows,
        rate: None,
        connections: None,
        net_rx_softirqs: out.net_rx_softirqs.clone(),
        memory_load: spec
            .interference
            .memory_load_cpu
            .zip(out.memory_load_bytes_per_sec)
            .map(|(cpu, bytes_per_sec)| MemoryLoadRecord {
                cpu,
                bytes_per_sec,
                collides_with: collisions(cpu, cpus),
            }),
        ..IterationExtras::default()
    };
    extras.service = out.service.as_ref().map(|m| {
        crate::store::service::ServiceRecord::of(&workload::mix::kind_names(spec), m, &out.latency)
    });
    if let Some(st) = &out.stages {
        extras.stages = crate::store::stages::medians(&st.set);
        extras.stage_coverage = Some(st.coverage);
        extras.stage_band = st.band.clone();
        extras.stage_paths = Some(PathSplit::of(&st.paths));
    }
    let measured = Measured {
        client: &out.client.counters,
        ports: out.ports.as_deref(),
        schedule: out.schedule.as_ref(),
    };
    workload::def(spec.workload).record(spec, &measured, &mut extras);
    extras
}

/// The optional parts of a case summary, over its iterations; `actual` is the merged latency
/// from the actual send time (`rate`).
pub fn summary(
    iterations: &[IterationRecord],
    actual: Option<&crate::metrics::histogram::LatencyHistogram>,
) -> SummaryExtras {
    let elapsed: u64 = iterations.iter().map(|i| i.elapsed_ns).sum();
    let mut flows: Vec<FlowRecord> = Vec::new();
    for it in iterations {
        for f in &it.extras.flows {
            let i = f.flow as usize;
            if flows.len() <= i {
                flows.resize(i + 1, FlowRecord::default());
            }
            let t = &mut flows[i];
            t.flow = f.flow;
            t.client_thread = f.client_thread;
            t.server_thread = f.server_thread;
            t.messages += f.messages;
            t.bytes += f.bytes;
            t.lost += f.lost;
        }
    }
    for f in &mut flows {
        f.msgs_per_sec = per_sec(f.messages, elapsed);
    }
    let rates: Vec<(RateRecord, u64)> = iterations
        .iter()
        .filter_map(|i| i.extras.rate.map(|r| (r, i.elapsed_ns)))
        .collect();
    let conns: Vec<&ConnectionRecord> = iterations
        .iter()
        .filter_map(|i| i.extras.connections.as_ref())
        .collect();
    let mut softirqs: Option<Vec<u64>> = None;
    for it in iterations {
        if let Some(v) = &it.extras.net_rx_softirqs {
            let sum = softirqs.get_or_insert_with(|| vec![0; v.len()]);
            for (s, x) in sum.iter_mut().zip(v) {
                *s += x;
            }
        }
    }
    let loads: Vec<&MemoryLoadRecord> = iterations
        .iter()
        .filter_map(|i| i.extras.memory_load.as_ref())
        .collect();
    let memory_load = loads.first().map(|first| MemoryLoadRecord {
        bytes_per_sec: loads.iter().map(|l| l.bytes_per_sec).sum::<f64>() / loads.len() as f64,
        ..(*first).clone()
    });
    let mut coverage: Option<StageCoverage> = None;
    for c in iterations.iter().filter_map(|i| i.extras.stage_coverage) {
        coverage.get_or_insert_with(StageCoverage::default).add(&c);
    }
    SummaryExtras {
        latency_actual: actual.map(crate::metrics::histogram::LatencySummary::of),
        flow_fairness: fairness(&flows),
        flows,
        rate: RateRecord::merge(&rates),
        connections: ConnectionRecord::merge(&conns),
        net_rx_softirqs: softirqs,
        memory_load,
        stage_coverage: coverage,
        stage_band: BandStages::merge(
            iterations
                .iter()
                .filter_map(|i| i.extras.stage_band.as_ref()),
        ),
        ..SummaryExtras::default()
    }
}

fn side_record(side: &SideOutcome, messages: u64, elapsed_ns: u64) -> SideRecord {
    let helpers = side.engine_threads;
    SideRecord {
        usage: SideUsage::new(side.usage, messages, elapsed_ns),
        counters: side.counters,
        cpus: side.cpus.clone(),
        migrations: side.migrations,
        engine_threads: (helpers != Default::default())
            .then(|| SideUsage::new(helpers, messages, elapsed_ns)),
    }
}

/// The record of measured iteration `index` of a case, which started `started_offset_ns` after
/// the run.
pub(crate) fn iteration_record(
    spec: &Spec,
    cpus: &ResolvedPlacement,
    index: u32,
    started_offset_ns: u64,
    out: &IterationOutcome,
) -> IterationRecord {
    let Throughput {
        messages,
        bytes,
        elapsed_ns,
    } = out.throughput;
    IterationRecord {
        index,
        started_offset_ns,
        elapsed_ns,
        messages,
        bytes,
        latency: LatencySummary::of(&out.latency),
        msgs_per_sec: per_sec(messages, elapsed_ns),
        bytes_per_sec: per_sec(bytes, elapsed_ns),
        client: side_record(&out.client, messages, out.client.elapsed_ns),
        server: side_record(&out.server, messages, out.server.elapsed_ns),
        slices: out
            .server
            .slices
            .iter()
            .chain(&out.client.slices)
            .copied()
            .collect(),
        extras: iteration(spec, cpus, out),
    }
}

/// Merges a case's iterations into its summary; `memcpy` is the case's memcpy reference, if it
/// has one.
pub fn summarize(
    iterations: &[IterationRecord],
    merged: &LatencyHistogram,
    memcpy: Option<MemcpyReference>,
) -> Option<CaseSummary> {
    if iterations.is_empty() {
        return None;
    }
    let elapsed: u64 = iterations.iter().map(|i| i.elapsed_ns).sum();
    let messages: u64 = iterations.iter().map(|i| i.messages).sum();
    let received: u64 = iterations.iter().map(|i| i.bytes).sum();
    let side = |pick: fn(&IterationRecord) -> &SideRecord| {
        let mut total = SideOutcome::default();
        for (i, it) in iterations.iter().enumerate() {
            let s = pick(it);
            total.add_part(i == 0, s.usage.total, s.cpus.iter().copied(), s.migrations);
            total.counters += s.counters;
            if let Some(e) = &s.engine_threads {
                total.engine_threads = total.engine_threads + e.total;
            }
        }
        total.settle_cpus();
        side_record(&total, messages, elapsed)
    };
    Some(CaseSummary {
        iterations: iterations.len() as u32,
        latency: LatencySummary::of(merged),
        msgs_per_sec: per_sec(messages, elapsed),
        bytes_per_sec: per_sec(received, elapsed),
        p50_ns_spread: Spread::of(iterations.iter().map(|i| i.latency.p50_ns as f64)),
        msgs_per_sec_spread: Spread::of(iterations.iter().map(|i| i.msgs_per_sec)),
        client: side(|i| &i.client),
        server: side(|i| &i.server),
        memcpy,
        copy_efficiency: memcpy
            .filter(|m| m.bytes_per_sec > 0.0)
            .map(|m| per_sec(received, elapsed) / m.bytes_per_sec),
        extras: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::histogram::new_histogram;
    use crate::spec::Transport;

    #[test]
    fn a_memory_load_on_a_worker_cpu_is_called_out() {
        let mut spec = Spec::new(Transport::Tcp4);
        spec.interference.memory_load_cpu = Some(1);
        let cpus = ResolvedPlacement {
            client: vec![0],
            server: vec![1],
        };
        let notes = case_notes(&spec, &cpus);
        assert!(
            notes
                .iter()
                .any(|n| n.contains("CPU of the server") && n.contains("competes")),
            "{notes:?}"
        );
        let apart = ResolvedPlacement {
            client: vec![0],
            server: vec![0],
        };
        assert!(
            !case_notes(&spec, &apart)
                .iter()
                .any(|n| n.contains("competes"))
        );
        assert_eq!(collisions(0, &apart), vec!["client", "server"]);
    }

    #[test]
    fn busy_polling_peers_on_one_cpu_are_called_out() {
        let one = ResolvedPlacement {
            client: vec![1],
            server: vec![1],
        };
        let two = ResolvedPlacement {
            client: vec![0],
            server: vec![1],
        };
        let mut spin = Spec::new(Transport::Tcp4);
        spin.engine = EngineKind::Spin;
        let says = |spec: &Spec, cpus: &ResolvedPlacement| {
            case_notes(spec, cpus)
                .iter()
                .any(|n| n.contains("CPU 1") && n.contains("time slice"))
        };
        assert!(says(&spin, &one));
        assert!(!says(&spin, &two));
        assert!(
            !says(&Spec::new(Transport::Tcp4), &one),
            "blocking waits sleep"
        );
    }

    #[test]
    fn summaries_merge_iterations() {
        let mut h = new_histogram();
        h.record(1000).unwrap();
        let it = |index: u32, msgs: u64, p50: u64| {
            let mut r = IterationRecord {
                index,
                elapsed_ns: 1_000_000_000,
                latency: LatencySummary {
                    p50_ns: p50,
                    ..Default::default()
                },
                msgs_per_sec: msgs as f64,
                ..IterationRecord::default()
            };
            r.messages = msgs;
            r
        };
        let s = summarize(&[it(0, 100, 10), it(1, 300, 30), it(2, 200, 20)], &h, None).unwrap();
        assert_eq!(s.iterations, 3);
        assert_eq!(s.msgs_per_sec, 200.0);
        assert_eq!(
            s.p50_ns_spread,
            Spread {
                min: 10.0,
                median: 20.0,
                max: 30.0
            }
        );
        assert!(summarize(&[], &h, None).is_none());
    }

    #[test]
    fn a_case_pools_its_iterations_bands() {
        use crate::store::stage_split::BandStages;
        use crate::store::stages::StageMap;
        let it = |n: u64, a: f64, b: f64| {
            let mut r = IterationRecord::default();
            r.extras.stage_band = Some(BandStages {
                round_trips: n,
                rtt_mean_ns: a + b,
                stages: StageMap(vec![("a".into(), a), ("b".into(), b)]),
                ..BandStages::default()
            });
            r
        };
        let s = summary(
            &[
                it(1, 10.0, 0.0),
                it(3, 2.0, 4.0),
                IterationRecord::default(),
            ],
            None,
        );
        let band = s.stage_band.unwrap();
        assert_eq!(band.round_trips, 4);
        assert_eq!(band.stages.get("a"), Some(&4.0));
        assert_eq!((band.sum_ns(), band.rtt_mean_ns), (7.0, 7.0));
        assert!(
            summary(&[IterationRecord::default()], None)
                .stage_band
                .is_none()
        );
    }
}
