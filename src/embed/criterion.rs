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
//! (started on first use, so benchmarks that criterion filters out cost nothing). Criterion
//! reports a mean; [`rr`] also keeps every round trip's latency and, when the benchmark ends,
//! prints its p50/p99/p99.9 and saves the HDR histogram as
//! `target/criterion/loopbench/<case id>.hgrm` (see [`criterion_dir`]; the histogram includes
//! criterion's warm-up batches, which it does not tell apart). [`stream`]
//! times one receiver-counted bulk iteration per batch on a fresh pair, to be used with
//! [`throughput`] (`Throughput::Bytes`).

use std::time::Duration;

use criterion::{Bencher, Throughput};

use crate::embed::pair::{Pair, stream_batch};
use crate::embed::tails::Tails;
pub use crate::embed::tails::criterion_dir;
use crate::host::topology::Topology;
use crate::spec::{Spec, Workload};

/// An `iter_custom` routine timing `n` round trips of `spec` (its handler, framing, transport,
/// engine and placement) on an already-connected pinned pair; its latency tails are printed
/// and saved when criterion is done with it (see the module documentation).
///
/// Panics with the harness's message when the pair cannot be started or a batch fails (a
/// benchmark has no other way to fail).
pub fn rr(spec: Spec) -> impl FnMut(&mut Bencher<'_>) {
    let mut bench = RrBench {
        tails: Tails::new(&spec.case_id().to_string()),
        spec,
        pair: None,
    };
    move |b: &mut Bencher<'_>| bench.iterate(b)
}

/// [`rr`]'s state: the pair, once started, and every latency it measured.
struct RrBench {
    spec: Spec,
    pair: Option<Pair>,
    tails: Tails,
}

impl RrBench {
    fn iterate(&mut self, b: &mut Bencher<'_>) {
        let spec = &self.spec;
        let pair = self.pair.get_or_insert_with(|| {
            Pair::start(spec).unwrap_or_else(|e| panic!("{}: {e}", spec.case_id()))
        });
        let tails = &mut self.tails;
        b.iter_custom(|n| {
            let batch = pair
                .round_trips(n)
                .unwrap_or_else(|e| panic!("{}: {e}", spec.case_id()));
            tails.add(&batch.latency);
            batch.elapsed
        })
    }
}

impl Drop for RrBench {
    /// Criterion drops the routine when the benchmark is done: say and save its tails.
    fn drop(&mut self) {
        if self.tails.histogram().is_empty() {
            return;
        }
        match self.tails.save(&criterion_dir()) {
            Ok(path) => println!(
                "loopbench {}\n  histogram: {}",
                self.tails.line(),
                path.display()
            ),
            Err(e) => println!(
                "loopbench {}\n  histogram not saved: {e:#}",
                self.tails.line()
            ),
        }
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
            let batch =
                stream_batch(&spec, &cpus, n).unwrap_or_else(|e| panic!("{}: {e}", spec.case_id()));
            batch.elapsed.max(Duration::from_nanos(1))
        })
    }
}

/// What one iteration of [`stream`] moves: `Throughput::Bytes(spec.size)`, for
/// `group.throughput(...)`.
pub fn throughput(spec: &Spec) -> Throughput {
    Throughput::Bytes(spec.size as u64)
}
