//! `rr` round trips, 64 B, blocking engine, per transport and placement: `iter_custom` over an
//! already-connected pinned pair ([`loopbench::pair::Pair`]), so criterion times only round
//! trips (each with the harness's own clock read and histogram record, as `loopbench run` does).
//!
//! `cargo bench --bench rr`; ids are the case ids `loopbench run` uses
//! (`rr/tcp4-rr-blocking-cross-core-64B`).

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use loopbench::pair::Pair;
use loopbench::spec::{Spec, Transport};

const TRANSPORTS: [Transport; 5] = [
    Transport::Tcp4,
    Transport::Udp4,
    Transport::UnixStream,
    Transport::Pipe,
    Transport::Shm,
];

fn rr(c: &mut Criterion) {
    let mut group = c.benchmark_group("rr");
    group.throughput(Throughput::Elements(1));
    for placement in common::placements() {
        for transport in TRANSPORTS {
            let mut spec = Spec::new(transport);
            spec.placement = placement;
            let id = spec.case_id();
            let mut pair = Pair::start(&spec).unwrap_or_else(|e| panic!("{id}: {e:#}"));
            group.bench_function(id.as_str(), |b| {
                b.iter_custom(|n| {
                    pair.round_trips(n)
                        .unwrap_or_else(|e| panic!("{id}: {e:#}"))
                        .elapsed
                })
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = rr
}
criterion_main!(benches);
