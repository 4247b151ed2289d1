//! The SQLite history: idempotent adds, queries with filters, machines never mixed silently,
//! and concurrent writers (threads with their own connections; separate processes are tested
//! through the command line in tests/cli/history.rs).

use std::collections::BTreeMap;
use std::thread;

use loopbench::history::db::{AddOutcome, History, HistoryError, SeriesFilter};
use loopbench::history::figures::{CaseFigures, IterationFigures, RunEnvironment, RunFigures};
use loopbench::store::metric::Unit;

const P50: &str = "p50";
const THROUGHPUT: &str = "throughput";

fn env(host: &str) -> RunEnvironment {
    RunEnvironment {
        host: host.into(),
        kernel: "6.18.0".into(),
        cpu_model: "AMD EPYC 9B14".into(),
        cpu_count: 2,
        virtualization: Some("KVM".into()),
        lo_settings: "mtu=65536 qdisc=noqueue tso=on gso=on".into(),
    }
}

fn figures(p50: f64) -> IterationFigures {
    IterationFigures {
        p50_ns: Some(p50),
        p99_ns: Some(3.0 * p50),
        p999_ns: None,
        throughput: Some(1e9 / p50),
        receiver_cpu_ns: None,
    }
}

/// A run of one rr case on `host` with this p50 (ns) and three iterations around it.
pub(crate) fn run(id: &str, minute: u32, host: &str, branch: &str, p50: f64) -> RunFigures {
    RunFigures {
        run_id: id.into(),
        started_at: format!("2026-11-27T18:{minute:02}:05Z"),
        complete: true,
        environment: env(host),
        commit: Some(format!("c{minute:02}")),
        branch: Some(branch.into()),
        label: None,
        cases: vec![CaseFigures {
            case_id: "tcp4-rr-blocking-cross-core-64B".into(),
            throughput_unit: Unit::MsgsPerSec,
            summary: figures(p50),
            iterations: vec![figures(p50 - 1.0), figures(p50), figures(p50 + 1.0)],
            stage_medians_ns: BTreeMap::from([("server-turnaround".to_string(), p50 / 4.0)]),
            min_latency_samples: Some(200_000),
        }],
    }
}

fn count(h: &History, table: &str) -> i64 {
    h.connection()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_run_added_twice_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = History::open(&dir.path().join("history.sqlite")).unwrap();
    let r = run("20261127T183705Z-4f2a", 37, "bench-01", "main", 18_500.0);
    assert_eq!(h.add(&r).unwrap(), AddOutcome::Added);
    let rows = [
        "runs",
        "cases",
        "figures",
        "iteration_figures",
        "stage_medians",
    ]
    .map(|t| count(&h, t));
    assert_eq!(rows, [1, 1, 3, 9, 1]);
    assert_eq!(h.add(&r).unwrap(), AddOutcome::AlreadyPresent);
    assert_eq!(
        [
            "runs",
            "cases",
            "figures",
            "iteration_figures",
            "stage_medians"
        ]
        .map(|t| count(&h, t)),
        rows
    );
    // Reopening finds the file at the current schema and the run still there.
    drop(h);
    let h = History::open(&dir.path().join("history.sqlite")).unwrap();
    assert_eq!(h.list_runs(&SeriesFilter::default()).unwrap().len(), 1);
    let mode: String = h
        .connection()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_series_is_ordered_filtered_and_carries_its_iterations() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = History::open(&dir.path().join("h.sqlite")).unwrap();
    // Added out of time order on purpose.
    for r in [
        run("r3", 30, "bench-01", "main", 300.0),
        run("r1", 10, "bench-01", "main", 100.0),
        run("r2", 20, "bench-01", "main", 200.0),
        run("d1", 15, "bench-01", "dev", 150.0),
    ] {
        h.add(&r).unwrap();
    }
    let main = SeriesFilter {
        branch: Some("main".into()),
        ..SeriesFilter::default()
    };
    let s = h
        .series("tcp4-rr-blocking-cross-core-64B", P50, &main)
        .unwrap();
    let ids: Vec<&str> = s.iter().map(|p| p.run_id.as_str()).collect();
    assert_eq!(ids, ["r1", "r2", "r3"]);
    assert_eq!(s[0].value, 100.0);
    assert_eq!(s[0].iterations, [99.0, 100.0, 101.0]);
    assert_eq!(s[0].unit, "ns");
    assert_eq!(s[2].commit.as_deref(), Some("c30"));
    let t = h
        .series("tcp4-rr-blocking-cross-core-64B", THROUGHPUT, &main)
        .unwrap();
    assert_eq!(t[0].unit, "msgs/s");
    assert_eq!(
        h.series(
            "tcp4-rr-blocking-cross-core-64B",
            P50,
            &SeriesFilter::default()
        )
        .unwrap()
        .len(),
        4
    );
    assert!(h.series("no-such-case", P50, &main).unwrap().is_empty());
    let runs = h.list_runs(&main).unwrap();
    assert_eq!(
        runs.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>(),
        ["r1", "r2", "r3"]
    );
    assert_eq!(runs[0].cases, 1);
    let keys = h.series_keys(&main).unwrap();
    assert_eq!(
        keys.iter().map(|k| k.metric.as_str()).collect::<Vec<_>>(),
        ["p50", "p99", "throughput"]
    );
}

#[test]
fn figures_from_two_machines_are_never_mixed_silently() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = History::open(&dir.path().join("h.sqlite")).unwrap();
    h.add(&run("a", 1, "bench-01", "main", 100.0)).unwrap();
    h.add(&run("b", 2, "bench-02", "main", 120.0)).unwrap();
    let err = h
        .series(
            "tcp4-rr-blocking-cross-core-64B",
            P50,
            &SeriesFilter::default(),
        )
        .unwrap_err();
    assert!(
        matches!(&err, HistoryError::MixedMachines { fingerprints, .. } if fingerprints.len() == 2)
    );
    assert!(err.to_string().contains("--host or --fingerprint"), "{err}");
    let one = SeriesFilter {
        fingerprint: Some(env("bench-02").machine_fingerprint()),
        ..SeriesFilter::default()
    };
    let s = h
        .series("tcp4-rr-blocking-cross-core-64B", P50, &one)
        .unwrap();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].host, "bench-02");
    let by_host = SeriesFilter {
        host: Some("bench-01".into()),
        ..SeriesFilter::default()
    };
    assert_eq!(
        h.series("tcp4-rr-blocking-cross-core-64B", P50, &by_host)
            .unwrap()[0]
            .run_id,
        "a"
    );
}

/// Two threads, each with its own connection, add 60 runs of their own and the same 20 shared
/// runs, interleaved: all 140 are stored once.
#[test]
fn two_connections_adding_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.sqlite");
    History::open(&path).unwrap();
    let writers: Vec<_> = ["w1", "w2"]
        .into_iter()
        .map(|w| {
            let path = path.clone();
            thread::spawn(move || {
                let mut h = History::open(&path).unwrap();
                let mut outcomes = Vec::new();
                for i in 0..60u32 {
                    outcomes.push(
                        h.add(&run(&format!("{w}-{i}"), i % 60, "bench-01", "main", 100.0))
                            .unwrap(),
                    );
                    if i % 3 == 0 {
                        let shared = format!("shared-{}", i / 3);
                        outcomes.push(
                            h.add(&run(&shared, i % 60, "bench-01", "main", 100.0))
                                .unwrap(),
                        );
                    }
                }
                outcomes
            })
        })
        .collect();
    let outcomes: Vec<AddOutcome> = writers
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let added = outcomes.iter().filter(|o| **o == AddOutcome::Added).count();
    assert_eq!(added, 140);
    assert_eq!(outcomes.len() - added, 20);
    let h = History::open(&path).unwrap();
    assert_eq!(count(&h, "runs"), 140);
    assert_eq!(count(&h, "iteration_figures"), 140 * 9);
}
