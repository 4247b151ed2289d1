//! The io_uring engine and its variants through whole iterations (threads, gate, watchdog):
//! counted, bounded, exact accounting; the SQPOLL thread's CPU on its side; and io_uring
//! refused by a real seccomp filter.

use std::sync::atomic::AtomicBool;

use crate::host::topology::{ResolvedPlacement, Topology};
use crate::run::worker::{IterationOutcome, run_iteration};
use crate::spec::{
    EngineChoice, EngineKind, IterationLength, Placement, Spec, Transport, UringSettings, Workload,
};

/// The variants the done-when names, and two that combine options.
fn variants() -> Vec<EngineChoice> {
    [
        "io_uring",
        "io_uring-sqpoll",
        "io_uring-multishot",
        "io_uring-fixed",
        "io_uring-sqpoll-multishot-fixed",
    ]
    .iter()
    .map(|v| v.parse().unwrap())
    .collect()
}

/// Messages per case: SQPOLL threads busy-poll a CPU each, so on a small test machine their
/// round trips wait for time slices; fewer of them keep the test short.
fn count(e: EngineChoice, plain: u64) -> u64 {
    if e.uring.sqpoll { plain / 5 } else { plain }
}

fn unpinned() -> ResolvedPlacement {
    Topology::detect().resolve(Placement::Unpinned).unwrap()
}

fn run(spec: &Spec, messages: u64) -> IterationOutcome {
    crate::workload::check(spec).unwrap();
    let never = AtomicBool::new(false);
    run_iteration(
        spec,
        &unpinned(),
        IterationLength::Count { messages },
        &never,
    )
    .unwrap_or_else(|e| panic!("{}: {e:#}", spec.case_id()))
}

fn spec(t: Transport, w: Workload, e: EngineChoice) -> Spec {
    let mut s = Spec::new(t);
    s.workload = w;
    s.set_engine(e);
    s.timing.iterations = 1;
    // SQPOLL threads spin on a CPU each: with a busy test machine a round trip may wait for a
    // time slice far longer than the default; these tests count, they do not time.
    s.timing.loss_timeout_ns = 1_000_000_000;
    s
}

#[test]
fn every_variant_answers_every_request_on_every_fd_transport() {
    for t in [
        Transport::Tcp4,
        Transport::Udp4,
        Transport::UnixStream,
        Transport::UnixSeqpacket,
        Transport::Pipe,
    ] {
        for e in variants() {
            let n = count(e, 100);
            let out = run(&spec(t, Workload::Rr, e), n);
            assert_eq!(out.latency.len(), n, "{t} {e}");
            assert_eq!(out.server.counters.messages, n, "{t} {e}");
            assert_eq!(out.client.counters.lost, 0, "{t} {e}");
        }
    }
}

#[test]
fn large_requests_and_responses_go_in_place_and_arrive_whole() {
    for e in variants() {
        let mut s = spec(Transport::Tcp4, Workload::Rr, e);
        s.size = 100_000;
        s.response_size = 5000;
        let out = run(&s, 50);
        assert_eq!(out.latency.len(), 50, "{e}");
        assert_eq!(out.server.counters.bytes_received, 50 * 100_000, "{e}");
    }
}

#[test]
fn every_variant_streams_every_byte_to_the_receiver() {
    for t in [Transport::Tcp4, Transport::UnixStream, Transport::Pipe] {
        for size in [1000, 65536, 1 << 20] {
            for e in variants().into_iter().take(4) {
                let mut s = spec(t, Workload::Stream, e);
                s.size = size;
                let n = count(e, 40);
                let out = run(&s, n);
                assert_eq!(out.client.counters.messages, n, "{t} {size} {e}");
                assert_eq!(
                    out.server.counters.bytes_received,
                    n * size as u64,
                    "{t} {size} {e}"
                );
            }
        }
    }
}

#[test]
fn udp_streams_count_every_datagram_as_received_or_lost() {
    for e in variants() {
        let mut s = spec(Transport::Udp4, Workload::Stream, e);
        s.size = 1400;
        let n = count(e, 2000);
        let out = run(&s, n);
        let (sent, srv) = (out.client.counters.messages, out.server.counters);
        assert_eq!(sent, n, "{e}");
        assert!(srv.messages <= sent && srv.messages > 0, "{e}: {srv:?}");
        assert_eq!(srv.bytes_received, srv.messages * 1400, "{e}");
        assert_eq!(srv.duplicated, 0, "{e}");
    }
}

#[test]
fn crr_follows_every_fresh_connection() {
    for t in [Transport::Tcp4, Transport::UnixStream] {
        for e in variants() {
            let n = count(e, 40);
            let out = run(&spec(t, Workload::Crr, e), n);
            assert_eq!(out.latency.len(), n, "{t} {e}");
            assert_eq!(out.client.counters.connections, n, "{t} {e}");
            assert_eq!(out.server.counters.connections, n, "{t} {e}");
            assert_eq!(out.server.counters.messages, n, "{t} {e}");
        }
    }
}

#[test]
fn rate_keeps_its_schedule_on_every_variant() {
    for t in [Transport::Tcp4, Transport::Udp4, Transport::UnixStream] {
        for e in variants() {
            let mut s = spec(t, Workload::Rate, e);
            s.rate.rate_per_sec = 20_000;
            let n = count(e, 400);
            let out = run(&s, n);
            let sched = out.schedule.expect("rate records its schedule");
            assert_eq!(sched.sent, n, "{t} {e}");
            assert_eq!(sched.completed + sched.lost, n, "{t} {e}");
            assert_eq!(out.latency.len(), sched.completed, "{t} {e}");
        }
    }
}

#[test]
fn many_flows_share_one_ring_per_thread() {
    for e in variants() {
        let mut s = spec(Transport::UnixStream, Workload::Rr, e);
        s.flows = 6;
        s.threads = 2;
        let n = count(e, 30);
        let out = run(&s, n);
        assert_eq!(out.flows.len(), 6, "{e}");
        for f in &out.flows {
            assert_eq!(f.client.messages, n, "{e} flow {}", f.flow);
            assert_eq!(f.server.messages, n, "{e} flow {}", f.flow);
        }
    }
}

#[test]
fn the_sqpoll_threads_cpu_is_counted_on_each_side_and_shown_apart() {
    let s = spec(
        Transport::Tcp4,
        Workload::Rr,
        "io_uring-sqpoll".parse().unwrap(),
    );
    let out = run(&s, 100);
    for side in [&out.client, &out.server] {
        let sq = side.engine_threads;
        // The SQ thread polls for as long as the ring lives: it has run.
        assert!(sq.cpu_ns > 0, "{sq:?}");
        assert!(
            side.usage.cpu_ns >= sq.cpu_ns,
            "included in the side's total"
        );
    }
    let plain = run(
        &spec(Transport::Tcp4, Workload::Rr, EngineKind::IoUring.into()),
        200,
    );
    assert_eq!(
        plain.client.engine_threads.cpu_ns, 0,
        "no kernel thread without sqpoll"
    );
}

/// Installs, on the calling thread only, a seccomp filter answering io_uring_setup with `errno`.
fn deny_io_uring_setup(errno: u32) {
    let insn = |code: u32, jt: u8, jf: u8, k: u32| libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    let filter = [
        // A = seccomp_data.nr
        insn(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0, 0, 0),
        insn(
            libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
            0,
            1,
            libc::SYS_io_uring_setup as u32,
        ),
        insn(
            libc::BPF_RET | libc::BPF_K,
            0,
            0,
            libc::SECCOMP_RET_ERRNO | errno,
        ),
        insn(libc::BPF_RET | libc::BPF_K, 0, 0, libc::SECCOMP_RET_ALLOW),
    ];
    let prog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: no_new_privs and a filter program that lives across the call; both affect only
    // this thread (no SECCOMP_FILTER_FLAG_TSYNC), which ends right after the test's check.
    unsafe {
        assert_eq!(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
        assert_eq!(
            libc::prctl(
                libc::PR_SET_SECCOMP,
                libc::SECCOMP_MODE_FILTER,
                &prog as *const libc::sock_fprog
            ),
            0
        );
    }
}

#[test]
fn a_seccomp_filter_refusing_io_uring_is_named_before_anything_runs() {
    for (errno, name) in [(libc::EPERM, "EPERM"), (libc::ENOSYS, "ENOSYS")] {
        let refused = std::thread::spawn(move || {
            deny_io_uring_setup(errno as u32);
            crate::engine::check_host("io_uring-sqpoll".parse().unwrap())
        })
        .join()
        .unwrap()
        .unwrap_err();
        let text = refused.to_string();
        assert!(
            text.contains("--engine io_uring-sqpoll")
                && text.contains("seccomp")
                && text.contains(name),
            "{text}"
        );
    }
    assert!(
        crate::engine::check_host(EngineKind::IoUring.into()).is_ok(),
        "other threads are not filtered"
    );
    assert!(super::check(&UringSettings::default()).is_ok());
}

#[test]
fn zero_copy_sends_go_out_as_send_zc_and_every_byte_is_accounted_for() {
    for e in ["io_uring", "io_uring-fixed", "io_uring-sqpoll"] {
        let e: EngineChoice = e.parse().unwrap();
        for size in [65536, 1 << 20] {
            let mut s = spec(Transport::Tcp4, Workload::Stream, e);
            s.zerocopy = crate::spec::ZeroCopy::Send;
            s.size = size;
            let n = count(e, 40);
            let out = run(&s, n);
            let bytes = n * size as u64;
            assert_eq!(out.client.counters.bytes_sent, bytes, "{e} {size}");
            assert_eq!(out.server.counters.bytes_received, bytes, "{e} {size}");
            let zc = out.client.counters.zerocopy;
            // Large writes are notified (zero-copy or copied); the slot's small ones copied.
            assert_eq!(
                zc.zerocopy_bytes + zc.copied_bytes,
                bytes,
                "{e} {size}: {zc:?}"
            );
            assert_eq!(zc.unnotified_bytes, 0, "{e} {size}: {zc:?}");
            assert!(
                zc.notifications >= n,
                "{e} {size}: a send per chunk at least: {zc:?}"
            );
            assert!(out.server.counters.zerocopy.is_empty(), "{e} {size}");
        }
    }
}
