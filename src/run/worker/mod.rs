//! One iteration: connect fresh pairs, start pinned client and server threads (released together),
//! let the engine drive them, and watch over them so that nothing can hang.
//!
//! The watchdog has two tools: the shared [`Control`](crate::engine::Control) (engines look at it whenever a flow cannot
//! progress), and a signal ("kick") that interrupts any blocking system call on any transport.
//! Measured connections carry no receive timeout (that would arm a kernel timer on every sleep);
//! instead the watchdog kicks a blocked client when a datagram may be lost, and every worker
//! when the servers must wind down or the iteration is aborted.
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};

use crate::host::topology::ResolvedPlacement;
use crate::spec::{IterationLength, Spec};

pub mod flows;
mod merge;
mod outcome;
pub mod probes;
pub mod process;
mod side;
pub mod stages;
mod threads;
mod watch;

pub use outcome::{FlowOutcome, IterationOutcome, IterationStages, Side, SideOutcome, Throughput};
pub(crate) use watch::{Progress, install_kick_handler, kick};

/// Runs one iteration of `spec` on fresh connections.
///
/// `length` is the iteration's length (the warm-up passes its own); `interrupt` is polled by the
/// watchdog (Ctrl-C). With `--processes` the server side runs in a child process.
pub fn run_iteration(
    spec: &Spec,
    placement: &ResolvedPlacement,
    length: IterationLength,
    interrupt: &AtomicBool,
) -> Result<IterationOutcome> {
    let stamps = spec
        .instrument
        .stages
        .then(|| crate::metrics::stamps::capacity(spec, length, None));
    run_iteration_stamped(spec, placement, length, stamps, interrupt)
}

/// [`run_iteration`] with `--stages` stamp logs of `stamps` messages per flow (the runner sizes
/// them from the case's last message rate).
pub fn run_iteration_stamped(
    spec: &Spec,
    placement: &ResolvedPlacement,
    length: IterationLength,
    stamps: Option<usize>,
    interrupt: &AtomicBool,
) -> Result<IterationOutcome> {
    if spec.layout.processes || spec.layout.connect.is_some() {
        return process::run_iteration(spec, placement, length, interrupt);
    }
    let flows = flows::build(spec, length, stamps).context("connecting the client and server")?;
    let connection = flows.connection.clone();
    let _listener = flows.listener;
    let sides = vec![(Side::Server, flows.servers), (Side::Client, flows.clients)];
    let measured = threads::run_local(
        spec,
        placement,
        length,
        interrupt,
        sides,
        &flows.heartbeats,
        None,
    )?;
    measured.into_outcome(spec, connection, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Aborted;
    use crate::host::topology::Topology;
    use crate::spec::{EngineKind, Placement, Transport};
    use std::time::{Duration, Instant};

    fn quick(transport: Transport, engine: EngineKind) -> Spec {
        let mut spec = Spec::new(transport);
        spec.engine = engine;
        spec.timing.iterations = 1;
        spec
    }

    fn placement(p: Placement) -> ResolvedPlacement {
        Topology::detect().resolve(p).unwrap()
    }

    #[test]
    fn every_transport_completes_a_counted_iteration_with_both_engines() {
        let never = AtomicBool::new(false);
        for &t in Transport::ALL {
            for e in [EngineKind::Blocking, EngineKind::Spin] {
                let mut spec = quick(t, e);
                // One request in flight is never lost on loopback; a spinning client preempted
                // on a busy machine must not count a late answer as lost.
                spec.timing.loss_timeout_ns = spec.timing.timeout_ns;
                let out = run_iteration(
                    &spec,
                    &placement(Placement::Unpinned),
                    IterationLength::Count { messages: 300 },
                    &never,
                )
                .unwrap_or_else(|err| panic!("{t} {e}: {err:#}"));
                assert_eq!(out.latency.len(), 300, "{t} {e}");
                assert_eq!(out.client.counters.messages, 300, "{t} {e}");
                assert_eq!(out.server.counters.messages, 300, "{t} {e}");
            }
        }
    }

    #[test]
    fn stream_counts_every_chunk_at_the_receiver_with_both_engines() {
        let never = AtomicBool::new(false);
        for &t in Transport::ALL {
            for e in [EngineKind::Blocking, EngineKind::Spin] {
                let mut spec = quick(t, e);
                spec.workload = crate::spec::Workload::Stream;
                spec.size = 4096;
                let out = run_iteration(
                    &spec,
                    &placement(Placement::Unpinned),
                    IterationLength::Count { messages: 2000 },
                    &never,
                )
                .unwrap_or_else(|err| panic!("{t} {e}: {err:#}"));
                let (sent, got) = (out.client.counters.messages, out.server.counters);
                assert_eq!(sent, 2000, "{t} {e}");
                if t.is_datagram() {
                    assert!(got.messages + got.lost <= sent, "{t} {e}: {got:?}");
                } else {
                    assert_eq!(got.messages, sent, "{t} {e}");
                    assert_eq!(got.bytes_received, sent * 4096, "{t} {e}");
                }
                assert_eq!(
                    out.throughput.bytes, got.bytes_received,
                    "{t} {e}: counted at the receiver"
                );
                // Two receptions make a span (a spinning UDP sender on a loaded machine can fill
                // the receive queue before the receiver first runs).
                assert!(
                    got.messages < 2 || out.throughput.elapsed_ns > 0,
                    "{t} {e}: {got:?}"
                );
                let sliced: u64 = out.server.slices.iter().map(|s| s.bytes).sum();
                assert_eq!(sliced, got.bytes_received, "{t} {e}");
            }
        }
    }

    #[test]
    fn pinned_workers_run_where_they_were_put() {
        let never = AtomicBool::new(false);
        let spec = quick(Transport::UnixStream, EngineKind::Blocking);
        let p = placement(Placement::SameCore);
        let out =
            run_iteration(&spec, &p, IterationLength::Count { messages: 50 }, &never).unwrap();
        assert_eq!(out.client.cpus, p.client);
        assert_eq!(out.server.cpus, p.server);
    }

    #[test]
    fn a_stuck_server_is_reported_not_waited_for_forever() {
        // The server takes 50 ms per answer but the client gives up after 10 ms, on a pipe (no
        // socket timeout: only the watchdog's kick can wake it) and on TCP.
        let never = AtomicBool::new(false);
        for t in [Transport::Pipe, Transport::Tcp4] {
            let mut spec = quick(t, EngineKind::Blocking);
            spec.server_delay_ns = 50_000_000;
            spec.timing.timeout_ns = 10_000_000;
            let started = Instant::now();
            let err = run_iteration(
                &spec,
                &placement(Placement::Unpinned),
                IterationLength::Count { messages: 3 },
                &never,
            )
            .err()
            .expect("must fail");
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{t}: took {:?}",
                started.elapsed()
            );
            let text = format!("{err:#}");
            assert!(
                text.contains("stuck") || text.contains("no response"),
                "{t}: {text}"
            );
        }
    }

    #[test]
    fn an_interrupt_stops_the_iteration() {
        let interrupted = AtomicBool::new(true);
        let spec = quick(Transport::Pipe, EngineKind::Blocking);
        let err = run_iteration(
            &spec,
            &placement(Placement::Unpinned),
            IterationLength::Duration {
                duration_ns: 60_000_000_000,
            },
            &interrupted,
        )
        .err()
        .expect("must be interrupted");
        assert!(
            err.downcast_ref::<crate::error::Interrupted>().is_some()
                || err.downcast_ref::<Aborted>().is_some(),
            "{err:#}"
        );
    }
}
