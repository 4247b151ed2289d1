//! The measurement's own cost: what every recorded round trip pays on top of the transport.
//!
//! - `clock_read`: one `clock_gettime(CLOCK_MONOTONIC)` (vDSO).
//! - `histogram_record`: one `record` into a pre-sized HDR histogram.
//! - `clock_read_and_record`: both, as the client does per round trip (target ≤ 40 ns).
//! - `rr_loop_without_io`: a whole `rr` round trip of the real client and server state
//!   machines over an in-thread shared-memory ring (no system call, no other thread): the
//!   per-message loop's cost without I/O.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use loopbench::engine::Wait;
use loopbench::metrics::clock::{MonotonicClock, monotonic_ns};
use loopbench::metrics::histogram::{new_histogram, record};
use loopbench::spec::{IterationLength, Placement, Spec, Transport};
use loopbench::transport::connector;
use loopbench::workload::{ClientEnv, Heartbeat, ServerEnv, client_flow, server_flow};

/// Latencies as a round-trip loop sees them: 1 µs .. 1 ms, spread over the histogram's buckets.
fn latencies() -> Vec<u64> {
    (0..4096u64).map(|i| 1_000 + (i * 7919) % 999_000).collect()
}

fn harness(c: &mut Criterion) {
    let mut group = c.benchmark_group("harness");
    group.bench_function("clock_read", |b| b.iter(|| black_box(monotonic_ns())));
    let values = latencies();
    let mut h = new_histogram();
    let mut i = 0usize;
    group.bench_function("histogram_record", |b| {
        b.iter(|| {
            i = (i + 1) & 4095;
            record(&mut h, black_box(values[i]));
        })
    });
    let mut prev = monotonic_ns();
    group.bench_function("clock_read_and_record", |b| {
        b.iter(|| {
            let now = monotonic_ns();
            record(&mut h, now - prev);
            prev = now;
        })
    });
    black_box(&h);

    let mut spec = Spec::new(Transport::Shm);
    spec.placement = Placement::Unpinned;
    let (mut client_end, mut server_end) = connector(&spec)
        .and_then(|mut c| c.pair())
        .expect("an shm pair");
    client_end.set_nonblocking(true).expect("non-blocking shm");
    server_end.set_nonblocking(true).expect("non-blocking shm");
    let forever = IterationLength::Count { messages: u64::MAX };
    let mut server = server_flow(&spec, ServerEnv::plain(MonotonicClock, forever));
    group.bench_function("rr_loop_without_io", |b| {
        b.iter_custom(|n| {
            let env = ClientEnv {
                clock: MonotonicClock,
                length: IterationLength::Count { messages: n },
                heartbeat: Heartbeat::default(),
                flow: 0,
                stamps: None,
            };
            let mut client = client_flow(&spec, env, None).expect("an rr client flow");
            let started = Instant::now();
            // Each client step sends a request and waits; each server step answers it.
            while client.progress(&mut client_end).expect("client step") != Wait::Done {
                server.progress(&mut server_end).expect("server step");
            }
            let elapsed = started.elapsed();
            black_box(client.report());
            elapsed.max(Duration::from_nanos(1))
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = harness
}
criterion_main!(benches);
