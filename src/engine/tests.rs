//! Every engine × fd transport × workload through a whole iteration (threads, barrier,
//! watchdog), counted, bounded, and checked for exact accounting.

use std::sync::atomic::AtomicBool;

use crate::host::topology::{ResolvedPlacement, Topology};
use crate::run::worker::{IterationOutcome, run_iteration};
use crate::spec::{EngineKind, IterationLength, Placement, Spec, Transport, Workload};

const POLLING: [EngineKind; 3] = [EngineKind::Epoll, EngineKind::Tokio, EngineKind::TokioMt];

/// The engines of `list` this build has (the tokio ones need the `tokio` feature).
fn built(list: impl IntoIterator<Item = EngineKind>) -> Vec<EngineKind> {
    list.into_iter().filter(|e| e.is_built()).collect()
}

fn unpinned() -> ResolvedPlacement {
    Topology::detect().resolve(Placement::Unpinned).unwrap()
}

fn run(spec: &Spec, messages: u64) -> IterationOutcome {
    let never = AtomicBool::new(false);
    run_iteration(
        spec,
        &unpinned(),
        IterationLength::Count { messages },
        &never,
    )
    .unwrap_or_else(|e| {
        panic!(
            "{} {} {} flows={}: {e:#}",
            spec.transport, spec.workload, spec.engine, spec.flows
        )
    })
}

fn spec(t: Transport, w: Workload, e: EngineKind) -> Spec {
    let mut s = Spec::new(t);
    s.workload = w;
    s.engine = e;
    s.timing.iterations = 1;
    // A late datagram answer on a busy machine is not a loss these tests count.
    s.timing.loss_timeout_ns = 1_000_000_000;
    s
}

#[test]
fn polling_engines_complete_rr_on_every_fd_transport() {
    for &t in Transport::ALL.iter().filter(|t| t.has_fd()) {
        for e in built(POLLING) {
            let out = run(&spec(t, Workload::Rr, e), 200);
            assert_eq!(out.latency.len(), 200, "{t} {e}");
            assert_eq!(out.server.counters.messages, 200, "{t} {e}");
        }
    }
}

#[test]
fn polling_engines_stream_every_byte_to_the_receiver() {
    for t in [Transport::Tcp4, Transport::UnixStream, Transport::Pipe] {
        for e in built(POLLING) {
            let mut s = spec(t, Workload::Stream, e);
            s.size = 8192;
            let out = run(&s, 500);
            assert_eq!(out.server.counters.bytes_received, 500 * 8192, "{t} {e}");
        }
    }
}

#[test]
fn shm_refuses_engines_that_need_a_file_descriptor() {
    for e in built(POLLING) {
        let err = crate::workload::check(&spec(Transport::Shm, Workload::Rr, e))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no file descriptor"), "{err}");
    }
}

#[test]
fn crr_completes_transactions_on_fresh_connections_with_every_engine() {
    for t in [
        Transport::Tcp4,
        Transport::Tcp6,
        Transport::UnixStream,
        Transport::UnixSeqpacket,
    ] {
        for e in built([
            EngineKind::Blocking,
            EngineKind::Spin,
            EngineKind::Epoll,
            EngineKind::Tokio,
        ]) {
            let out = run(&spec(t, Workload::Crr, e), 50);
            assert_eq!(out.latency.len(), 50, "{t} {e}");
            assert_eq!(out.client.counters.connections, 50, "{t} {e}");
            assert_eq!(out.server.counters.connections, 50, "{t} {e}");
            assert_eq!(out.server.counters.messages, 50, "{t} {e}");
            if matches!(t, Transport::Tcp4 | Transport::Tcp6) {
                // Every transaction had its own connection: 50 distinct local ports.
                assert_eq!(out.ports.as_ref().unwrap().count(), 50, "{t} {e}");
            }
        }
    }
}

#[test]
fn crr_refuses_transports_without_connections() {
    for t in [
        Transport::Udp4,
        Transport::UnixDgram,
        Transport::Pipe,
        Transport::Shm,
    ] {
        let err = crate::workload::check(&spec(t, Workload::Crr, EngineKind::Blocking))
            .unwrap_err()
            .to_string();
        assert!(err.contains("connection-oriented"), "{t}: {err}");
    }
}

#[test]
fn crr_spreads_connections_over_source_addresses() {
    let mut s = spec(Transport::Tcp4, Workload::Crr, EngineKind::Epoll);
    s.crr.spread = Some("127.0.0.2-127.0.0.5".parse().unwrap());
    s.crr.linger0 = true;
    s.flows = 2;
    s.threads = 1;
    crate::workload::check(&s).unwrap();
    let out = run(&s, 40);
    assert_eq!(out.client.counters.connections, 80);
    assert_eq!(out.client.counters.addr_not_avail, 0);
}

#[test]
fn rate_keeps_a_schedule_with_every_engine_and_records_both_latencies() {
    for t in [Transport::Tcp4, Transport::Udp4, Transport::UnixStream] {
        for e in built([
            EngineKind::Blocking,
            EngineKind::Spin,
            EngineKind::Epoll,
            EngineKind::Tokio,
        ]) {
            let mut s = spec(t, Workload::Rate, e);
            s.rate.rate_per_sec = 20_000;
            let out = run(&s, 400);
            let sched = out.schedule.expect("rate records its schedule");
            assert_eq!(sched.sent, 400, "{t} {e}");
            assert_eq!(sched.completed + sched.lost, 400, "{t} {e}");
            assert_eq!(out.latency.len(), sched.completed, "{t} {e}");
            assert_eq!(
                out.latency_actual.as_ref().unwrap().len(),
                sched.completed,
                "{t} {e}"
            );
            // Corrected latency is never below the actual one: intended <= actual send time.
            assert!(
                out.latency.max() >= out.latency_actual.as_ref().unwrap().max(),
                "{t} {e}"
            );
        }
    }
}

#[test]
fn rate_over_udp_reports_requests_the_server_drops_exactly() {
    for e in built([EngineKind::Blocking, EngineKind::Epoll]) {
        let mut s = spec(Transport::Udp4, Workload::Rate, e);
        s.rate.rate_per_sec = 10_000;
        s.server_drop_every = 10;
        // Long enough that a late answer on a busy machine is not counted lost.
        s.timing.loss_timeout_ns = 300_000_000;
        let out = run(&s, 300);
        let sched = out.schedule.unwrap();
        let srv = out.server.counters;
        assert_eq!(srv.dropped_on_purpose, 30, "{e}");
        // Every loss is accounted for: the 30 dropped on purpose, plus (only when parallel bulk
        // traffic overflows the kernel's loopback backlog) requests that never reached the
        // server and answers that never reached the client.
        let lost_on_the_way = srv.lost + (srv.messages - sched.completed);
        assert_eq!(sched.lost, 30 + lost_on_the_way, "{e}: {sched:?} {srv:?}");
        assert_eq!(sched.completed + sched.lost, 300, "{e}");
    }
}

#[test]
fn many_flows_over_few_threads_are_all_counted_per_flow() {
    for e in built([EngineKind::Spin, EngineKind::Epoll, EngineKind::Tokio]) {
        let mut s = spec(Transport::UnixStream, Workload::Rr, e);
        s.flows = 6;
        s.threads = 2;
        let out = run(&s, 30);
        assert_eq!(out.flows.len(), 6, "{e}");
        for f in &out.flows {
            assert_eq!(f.client.messages, 30, "{e} flow {}", f.flow);
            assert_eq!(f.server.messages, 30, "{e} flow {}", f.flow);
            assert_eq!(f.threads.0, f.flow % 2, "{e}");
        }
        assert_eq!(out.latency.len(), 180, "{e}");
    }
}

#[test]
fn a_thousand_flows_run_on_one_epoll_thread() {
    let mut s = spec(Transport::Tcp4, Workload::Rr, EngineKind::Epoll);
    s.flows = 1000;
    crate::workload::check(&s).unwrap();
    let out = run(&s, 5);
    assert_eq!(out.flows.len(), 1000);
    assert!(out.flows.iter().all(|f| f.client.messages == 5));
    assert_eq!(out.latency.len(), 5000);
}

#[test]
fn the_blocking_engine_refuses_more_flows_than_threads() {
    let mut s = spec(Transport::Tcp4, Workload::Rr, EngineKind::Blocking);
    s.flows = 4;
    s.threads = 2;
    let err = crate::workload::check(&s).unwrap_err().to_string();
    assert!(
        err.contains("--threads 4") && err.contains("--engine epoll"),
        "{err}"
    );
}

#[test]
fn migrations_and_softirqs_are_recorded_when_the_kernel_has_them() {
    let out = run(
        &spec(Transport::Tcp4, Workload::Rr, EngineKind::Blocking),
        100,
    );
    let has_migrations = crate::metrics::sched::thread_migrations().is_some();
    assert_eq!(out.client.migrations.is_some(), has_migrations);
    assert_eq!(out.server.migrations.is_some(), has_migrations);
    match &out.net_rx_softirqs {
        Some(per_cpu) => assert!(!per_cpu.is_empty()),
        None => assert!(crate::metrics::sched::net_rx_softirqs().is_none()),
    }
}

#[test]
fn a_memory_load_runs_during_measured_iterations_only() {
    let cpu = Topology::detect().cpus[0].id;
    let mut s = spec(Transport::UnixStream, Workload::Rr, EngineKind::Blocking);
    s.interference.memory_load_cpu = Some(cpu);
    s.timing.length = IterationLength::Count { messages: 200 };
    let out = run(&s, 200);
    // It ran and reported (how much it copied in a short iteration is up to the scheduler).
    assert!(out.memory_load_bytes_per_sec.is_some_and(|b| b >= 0.0));
    let warmup = IterationLength::Duration {
        duration_ns: 1_000_000,
    };
    let never = AtomicBool::new(false);
    let w = run_iteration(&s, &unpinned(), warmup, &never).unwrap();
    assert!(
        w.memory_load_bytes_per_sec.is_none(),
        "no load during the warm-up"
    );
}

#[test]
fn every_zero_copy_path_streams_every_byte_on_the_non_blocking_engines() {
    use crate::spec::ZeroCopy;
    let paths = crate::transport::zerocopy::check::EVERY_PATH;
    for e in [EngineKind::Epoll, EngineKind::Spin] {
        for (t, zc) in paths {
            let mut s = spec(t, Workload::Stream, e);
            s.zerocopy = zc;
            s.size = 65536;
            crate::workload::check(&s).unwrap();
            let out = run(&s, 100);
            let (bytes, what) = (out.client.counters.bytes_sent, format!("{e} {t} {zc}"));
            assert_eq!(out.server.counters.bytes_received, 100 * 65536, "{what}");
            let (sent, got) = (out.client.counters.zerocopy, out.server.counters.zerocopy);
            match zc {
                ZeroCopy::Send | ZeroCopy::SendRecv => {
                    let told = sent.zerocopy_bytes + sent.copied_bytes + sent.unnotified_bytes;
                    assert_eq!(told, bytes, "{what}: {sent:?}");
                    assert!(sent.notifications > 0, "{what}: {sent:?}");
                }
                _ if zc != ZeroCopy::Recv => {
                    assert_eq!(sent.by_reference_bytes, bytes, "{what}: {sent:?}")
                }
                _ => assert!(sent.is_empty(), "{what}: {sent:?}"),
            }
            if matches!(zc, ZeroCopy::Recv | ZeroCopy::SendRecv) {
                let told = got.zerocopy_bytes + got.copied_bytes;
                assert_eq!(told, bytes, "{what}: {got:?}");
            } else {
                assert!(got.is_empty(), "{what}: {got:?}");
            }
        }
    }
}
