//! Settings shared by the loopbench benches: short enough that `cargo bench` finishes in a few
//! minutes on 2 CPUs, and a 5 % noise threshold (the gate's default) because loopback round
//! trips on a shared machine move by a few percent from one minute to the next. Criterion's
//! flags (`--save-baseline`, `--baseline`, `--measurement-time`, `--noise-threshold`, ...)
//! override these.

#![allow(dead_code)]

use std::time::Duration;

use criterion::Criterion;
use loopbench::host::topology::Topology;
use loopbench::spec::Placement;

/// The criterion configuration of every loopbench bench.
pub fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
        .noise_threshold(0.05)
}

/// Same-core always; cross-core when the machine has two physical cores (else a note on stderr).
pub fn placements() -> Vec<Placement> {
    let topology = Topology::detect();
    let mut out = vec![Placement::SameCore];
    match topology.resolve(Placement::CrossCore) {
        Ok(_) => out.push(Placement::CrossCore),
        Err(e) => eprintln!("skipping cross-core benches: {e}"),
    }
    out
}
