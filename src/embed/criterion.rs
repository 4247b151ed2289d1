//! criterion integration (feature `criterion`): a [`Spec`] becomes a benchmark routine.
//!
//! ```no_run
//! use criterion::{Criterion, criterion_group, criterion_main};
//! use loopbench::spec::{Placement, Spec, Transport};
//!
//! fn bench(c: &mut Criterion) {
//!     let spec = Spec::builder(Transport::Tcp4)
//!         .placement(Placement::SameCore)
//!         .handler("my-codec", || loopbench::spec::handler::echo())
//!         .build()
//!         .unwrap();
//!     c.bench_function("my_codec_over_tcp4", loopbench::embed::criterion::rr(spec));
//! }
//! criterion_group!(benches, bench);
//! criterion_main!(benches);
//! ```
//!
//! [`rr`] times round trips on one connected, pinned pair that lives as long as the routine
//! (started on first use, so benchmarks that criterion filters out cost nothing); [`stream`]
//! times one receiver-counted bulk iteration per batch on a fresh pair, to be used with
//! [`throughput`] (`Throughput::Bytes`).

use std::time::Duration;

use criterion::{Bencher, Throughput};

use crate::embed::pair::{Pair, stream_batch};
use crate::host::topology::Topology;
use crate::spec::{Spec, Workload};

/// An `iter_custom` routine timing `n` round trips of `spec` (its handler, framing, transport,
/// engine and placement) on an already-connected pinned pair.
///
/// Panics with the harness's message when the pair cannot be started or a batch fails (a
/// benchmark has no other way to fail).
pub fn rr(spec: Spec) -> impl FnMut(&mut Bencher<'_>) {
    let mut pair: Option<Pair> = None;
    move |b: &mut Bencher<'_>| {
        let p = pair.get_or_insert_with(|| {
            Pair::start(&spec).unwrap_or_else(|e| panic!("{}: {e:#}", spec.case_id()))
        });
        b.iter_custom(|n| {
            p.round_trips(n)
                .unwrap_or_else(|e| panic!("{}: {e:#}", p.spec().case_id()))
                .elapsed
        })
    }
}

/// An `iter_custom` routine timing one `stream` iteration of `n` writes of `spec.size` bytes,
/// counted at the receiver, on a fresh pinned pair per batch.
pub fn stream(spec: Spec) -> impl FnMut(&mut Bencher<'_>) {
    let mut spec = spec;
    spec.workload = Workload::Stream;
    let cpus = Topology::detect()
        .resolve(spec.placement)
        .unwrap_or_else(|e| panic!("{}: {e}", spec.case_id()));
    move |b: &mut Bencher<'_>| {
        b.iter_custom(|n| {
            let batch = stream_batch(&spec, &cpus, n)
                .unwrap_or_else(|e| panic!("{}: {e:#}", spec.case_id()));
            batch.elapsed.max(Duration::from_nanos(1))
        })
    }
}

/// What one iteration of [`stream`] moves: `Throughput::Bytes(spec.size)`, for
/// `group.throughput(...)`.
pub fn throughput(spec: &Spec) -> Throughput {
    Throughput::Bytes(spec.size as u64)
}
