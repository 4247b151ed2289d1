//! A criterion benchmark as your own crate would write it, using only loopbench's public API
//! (feature `criterion`): your handler over tcp4 at two placements, and a unix-stream bulk
//! transfer reported in bytes per second.
//!
//! `cargo run --release --example criterion_user --features criterion -- --bench` measures
//! (criterion's other flags work after `--` too, e.g. `--save-baseline main`); without `--bench`
//! criterion runs each routine once as a test, which is what CI does.

use criterion::{Criterion, criterion_group, criterion_main};
use loopbench::framing::LengthPrefix;
use loopbench::host::topology::Topology;
use loopbench::spec::{Placement, Spec, Transport};

fn my_codec(c: &mut Criterion) {
    let mut placements = vec![Placement::SameCore];
    if Topology::detect().physical_cores() >= 2 {
        placements.push(Placement::CrossCore);
    }
    for placement in placements {
        let spec = Spec::builder(Transport::Tcp4)
            .placement(placement)
            .length_prefix(LengthPrefix::U32_BE)
            .size(128)
            .handler("my-codec", || {
                |req: &[u8], resp: &mut Vec<u8>| {
                    resp.extend_from_slice(&req[..4]);
                    resp.extend(req[4..].iter().rev());
                }
            })
            .build()
            .expect("a valid spec");
        c.bench_function(
            &format!("my_codec_over_tcp4/{placement}"),
            loopbench::criterion::rr(spec),
        );
    }
    let bulk = Spec::builder(Transport::UnixStream)
        .size(64 * 1024)
        .build()
        .expect("a valid spec");
    let mut group = c.benchmark_group("bulk");
    group.throughput(loopbench::criterion::throughput(&bulk));
    group.bench_function("unix-stream-64KiB", loopbench::criterion::stream(bulk));
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1));
    targets = my_codec
}
criterion_main!(benches);
