//! `stream` throughput, 64 KiB writes, blocking engine, tcp4 and unix-stream at the default
//! placement: each criterion batch is one receiver-timed iteration on a fresh pinned pair
//! ([`loopbench::pair::stream_batch`]), reported in bytes per second.

mod common;

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use loopbench::host::topology::Topology;
use loopbench::pair::stream_batch;
use loopbench::spec::{Spec, Transport, Workload};

/// Bytes per write.
const CHUNK: usize = 64 * 1024;

fn stream(c: &mut Criterion) {
    let topology = Topology::detect();
    let mut group = c.benchmark_group("stream");
    group.throughput(Throughput::Bytes(CHUNK as u64));
    for transport in [Transport::Tcp4, Transport::UnixStream] {
        let mut spec = Spec::new(transport);
        spec.workload = Workload::Stream;
        spec.size = CHUNK;
        spec.response_size = CHUNK;
        spec.placement = topology.default_placement();
        let cpus = topology
            .resolve(spec.placement)
            .expect("the default placement resolves");
        let id = spec.case_id();
        group.bench_function(id.as_str(), |b| {
            b.iter_custom(|n| {
                let batch = stream_batch(&spec, &cpus, n).unwrap_or_else(|e| panic!("{id}: {e:#}"));
                batch.elapsed.max(Duration::from_nanos(1))
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = stream
}
criterion_main!(benches);
