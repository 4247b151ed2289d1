//! Synthetic runs for the report's tests: known latencies, deterministic, no measuring.

use std::path::PathBuf;

use super::data::{CaseHistograms, RunData};
use crate::host::environment::Environment;
use crate::host::topology::ResolvedPlacement;
use crate::metrics::clock::TimerCheck;
use crate::metrics::histogram::{LatencyHistogram, LatencySummary, new_histogram, record};
use crate::metrics::rusage::{SideUsage, ThreadUsage};
use crate::run::records::summarize;
use crate::spec::{EngineKind, Placement, Spec, Transport};
use crate::store::record::{
    CaseFiles, CaseRecord, IterationRecord, MemcpyReference, RunRecord, SideRecord, Slice, ToolInfo,
};

/// 1000 latencies spread evenly over `[p50/2, 3·p50/2)`: median `p50`, p99 ≈ 1.49·p50.
pub fn histogram_around(p50_ns: u64) -> LatencyHistogram {
    let mut h = new_histogram();
    for i in 0..1000u64 {
        record(&mut h, p50_ns / 2 + p50_ns * i / 1000);
    }
    h
}

/// What a synthetic case looks like.
pub struct CaseSpec {
    /// The spec.
    pub spec: Spec,
    /// One median per iteration, in ns.
    pub p50s_ns: Vec<u64>,
    /// Per-iteration payload throughput (bytes/s), for stream-like cases.
    pub bytes_per_sec: Option<f64>,
    /// Memcpy reference bandwidth, for stream-like cases.
    pub memcpy_bytes_per_sec: Option<f64>,
    /// Slices per iteration (100 ms each), for stream-like cases.
    pub slices: usize,
}

/// An `rr` case of `transport` with the given per-iteration medians.
pub fn rr(
    transport: Transport,
    engine: EngineKind,
    placement: Placement,
    size: usize,
    p50s_ns: &[u64],
) -> CaseSpec {
    CaseSpec {
        spec: super::anatomy::rr_spec(transport, engine, placement, size),
        p50s_ns: p50s_ns.to_vec(),
        bytes_per_sec: None,
        memcpy_bytes_per_sec: None,
        slices: 0,
    }
}

/// A bulk-transfer-like case: throughput, a memcpy reference and per-slice counts.
pub fn bulk(transport: Transport, size: usize, bytes_per_sec: f64, memcpy: f64) -> CaseSpec {
    let mut c = rr(
        transport,
        EngineKind::Blocking,
        Placement::CrossCore,
        size,
        &[10_000, 11_000],
    );
    c.bytes_per_sec = Some(bytes_per_sec);
    c.memcpy_bytes_per_sec = Some(memcpy);
    c.slices = 10;
    c
}

fn case(c: &CaseSpec, offset_ns: &mut u64) -> (CaseRecord, CaseHistograms) {
    let histograms: Vec<LatencyHistogram> =
        c.p50s_ns.iter().map(|&p| histogram_around(p)).collect();
    let iterations: Vec<IterationRecord> = histograms
        .iter()
        .enumerate()
        .map(|(i, h)| {
            *offset_ns += 1_000_000_000;
            let bps = c.bytes_per_sec.unwrap_or(0.0);
            let mut client = SideRecord::default();
            client.counters.messages = h.len();
            let used = ThreadUsage {
                cpu_ns: 1500 * h.len(),
                voluntary_switches: h.len(),
                ..ThreadUsage::default()
            };
            client.usage = SideUsage::new(used, h.len(), 1_000_000_000);
            client.cpus = vec![0];
            let mut server = client.clone();
            server.cpus = vec![1];
            let mut latency = LatencySummary::of(h);
            latency.p50_ns = c.p50s_ns[i];
            IterationRecord {
                index: i as u32,
                started_offset_ns: *offset_ns,
                elapsed_ns: 1_000_000_000,
                latency,
                messages: h.len(),
                bytes: (bps * 1.0) as u64,
                msgs_per_sec: h.len() as f64,
                bytes_per_sec: bps,
                client,
                server,
                slices: (0..c.slices as u64)
                    .map(|s| Slice {
                        start_ns: s * 100_000_000,
                        duration_ns: 100_000_000,
                        msgs: 100,
                        bytes: (bps / 10.0 * (1.0 + 0.05 * (s % 3) as f64)) as u64,
                    })
                    .collect(),
                ..IterationRecord::default()
            }
        })
        .collect();
    let hist = CaseHistograms::from_iterations(histograms).unwrap();
    let summary = hist
        .merged_if_any()
        .and_then(|m| summarize(&iterations, m, None))
        .map(|mut s| {
            if let (Some(bps), Some(m)) = (c.bytes_per_sec, c.memcpy_bytes_per_sec) {
                s.bytes_per_sec = bps;
                s.memcpy = Some(MemcpyReference {
                    chunk_bytes: c.spec.size,
                    bytes_per_sec: m,
                    cpu: Some(1),
                });
                s.copy_efficiency = Some(bps / m);
            }
            s
        });
    let record = CaseRecord {
        case_id: c.spec.case_id(),
        spec: c.spec.clone(),
        requested_cpus: ResolvedPlacement::default(),
        iterations,
        summary,
        errors: Vec::new(),
        complete: true,
        files: CaseFiles::default(),
        connection: None,
        notes: Vec::new(),
        clamped: Vec::new(),
    };
    (record, hist)
}

/// A complete run of `cases` with a fixed environment, so its exports are reproducible.
pub fn run(cases: &[CaseSpec]) -> RunData {
    let mut offset = 0;
    let (records, histograms): (Vec<CaseRecord>, Vec<CaseHistograms>) =
        cases.iter().map(|c| case(c, &mut offset)).unzip();
    let mut environment = Environment {
        hostname: "testhost".into(),
        kernel_release: "6.1.0-test".into(),
        cpu_model: "Test CPU @ 3.0GHz".into(),
        online_cpus: 2,
        physical_cores: 2,
        numa_nodes: 1,
        ..Environment::default()
    };
    environment
        .sysctls
        .insert("net.core.rmem_max".into(), "212992".into());
    let record = RunRecord {
        schema_version: crate::store::record::SCHEMA_VERSION,
        run_id: "20260101T000000Z-test".into(),
        tool: ToolInfo {
            name: "loopbench".into(),
            version: "0.0.0".into(),
            git_revision: None,
        },
        command_line: vec!["loopbench".into(), "suite".into(), "quick".into()],
        suite: Some("quick".into()),
        label: None,
        started_at: "2026-01-01T00:00:00.000000000Z".into(),
        finished_at: Some("2026-01-01T00:01:00.000000000Z".into()),
        complete: true,
        interrupted: false,
        seed: 7,
        environment,
        timer: TimerCheck {
            clock: "CLOCK_MONOTONIC".into(),
            clocksource: Some("tsc".into()),
            read_cost_ns: 20.0,
            resolution_ns: 1,
            min_step_ns: 10,
        },
        stage_clock: None,
        cases: records,
        schedule: Vec::new(),
        trust: None,
        skipped: Vec::new(),
    };
    RunData {
        dir: PathBuf::from("/nonexistent"),
        record,
        histograms,
        notes: Vec::new(),
    }
}

/// The anatomy set at both placements and engines with simple, known medians (ns): shm 1000,
/// pipe 3000, unix-stream 5000, udp4 8000, tcp4 9000, times 10 for blocking cross-core.
pub fn anatomy_run() -> RunData {
    let mut cases = Vec::new();
    for placement in [Placement::SameCore, Placement::CrossCore] {
        for engine in [EngineKind::Blocking, EngineKind::Spin] {
            let scale = if engine == EngineKind::Blocking && placement == Placement::CrossCore {
                10
            } else {
                1
            };
            for (t, base) in [
                (Transport::Shm, 1000),
                (Transport::Pipe, 3000),
                (Transport::UnixStream, 5000),
                (Transport::Udp4, 8000),
                (Transport::Tcp4, 9000),
            ] {
                let b = base * scale;
                cases.push(rr(t, engine, placement, 64, &[b - 100, b, b + 100]));
            }
        }
    }
    run(&cases)
}

/// Two tcp4 round trips of 10 µs, the first stamped (`--stages`): its stages' medians are
/// 1, 4, 0.1, 0.9 and 4 µs (adding up to the round trip), 990 round trips stamped, 10 beyond
/// the logs' room, a typical round trip of exactly those stages, and the round trips ranked
/// 45-55 % by RTT (99 of them, 9.9-10.1 µs) with means of 1.1, 3.6, 0.1, 0.9 and 4.3 µs.
pub fn stamped_run() -> RunData {
    use crate::store::stage_split::{BAND, BandStages};
    use crate::store::stages::{
        Lane, Layer, Span, StageCoverage, StageMap, StageSummary, Timeline,
    };
    let mut c = rr(
        Transport::Tcp4,
        EngineKind::Blocking,
        Placement::CrossCore,
        64,
        &[10_000, 10_000],
    );
    c.spec.instrument.stages = true;
    let plain = rr(
        Transport::Tcp4,
        EngineKind::Blocking,
        Placement::SameCore,
        64,
        &[5_000],
    );
    let mut data = run(&[c, plain]);
    let stages = [
        ("client_send", 1000, Lane::Client, Lane::Client),
        ("request_path", 4000, Lane::Client, Lane::Server),
        ("server_turnaround", 100, Lane::Server, Lane::Server),
        ("server_send", 900, Lane::Server, Lane::Server),
        ("response_path", 4000, Lane::Server, Lane::Client),
    ];
    let s = data.record.cases[0].summary.as_mut().unwrap();
    s.latency.p50_ns = 10_000;
    let mut spans = Vec::new();
    let mut at = 0;
    for (name, ns, from, to) in stages {
        let mut latency = LatencySummary::of(&histogram_around(ns));
        latency.p50_ns = ns;
        s.extras.stages.0.push((
            name.to_string(),
            StageSummary {
                latency,
                share_of_rtt: ns as f64 / 10_000.0,
                ..StageSummary::default()
            },
        ));
        spans.push(Span {
            name: name.to_string(),
            layer: Layer::User,
            from,
            to,
            start_ns: at,
            end_ns: at + ns as i64,
        });
        at += ns as i64;
    }
    let means = [1100.0, 3600.0, 100.0, 900.0, 4300.0];
    s.extras.stage_band = Some(BandStages {
        from_quantile: BAND.0,
        to_quantile: BAND.1,
        rtt_from_ns: 9900,
        rtt_to_ns: 10_100,
        round_trips: 99,
        rtt_mean_ns: 10_000.0,
        stages: StageMap(
            stages
                .iter()
                .zip(means)
                .map(|(st, m)| (st.0.to_string(), m))
                .collect(),
        ),
    });
    s.extras.stage_coverage = Some(StageCoverage {
        matched: 990,
        beyond_capacity: 10,
        ..StageCoverage::default()
    });
    s.extras.typical_round_trip = Some(Timeline {
        iteration: 1,
        message: 500,
        flow: 0,
        rtt_ns: 10_000,
        client_cpu: Some(0),
        server_cpu: Some(1),
        spans,
    });
    data
}
