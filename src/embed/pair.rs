//! A pinned, connected client/server pair for your own benchmarks (criterion's `iter_custom`).
//!
//! [`Pair::start`] resolves the spec's placement, connects one client/server pair with the
//! spec's transport, and starts two pinned threads: the server runs the workload's server side
//! under the spec's engine for as long as the pair lives; the client waits for batches.
//! [`Pair::round_trips`]`(n)` runs `n` closed-loop round trips (`rr`) on the already-connected
//! pair and returns how long they took, measured on the client's thread, with their latency
//! histogram. The calling thread is never pinned; a watchdog in it stops a batch whose peer makes
//! no progress for `--timeout` (the spec's `timing.timeout_ns`).
//!
//! ```no_run
//! use loopbench::embed::pair::Pair;
//! use loopbench::spec::{Placement, Spec, Transport};
//!
//! let mut spec = Spec::new(Transport::UnixStream);
//! spec.placement = Placement::SameCore;
//! let mut pair = Pair::start(&spec)?;
//! let batch = pair.round_trips(10_000)?;
//! println!("{:?} per round trip", batch.elapsed / 10_000);
//! // in a criterion bench: b.iter_custom(|n| pair.round_trips(n).unwrap().elapsed)
//! # Ok::<(), loopbench::Error>(())
//! ```
//!
//! For `stream`, whose receiver must see the end of the data to stop its clock, use
//! [`stream_batch`]: one receiver-timed iteration on a fresh pinned pair.

use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::engine::{Control, Engine, FlowSlot, RunState, engine_for};
use crate::error::{ConfigError, Error};
use crate::host::pinned::{self, PinnedThread, Started};
use crate::host::topology::{ResolvedPlacement, Topology};
use crate::metrics::clock::{MonotonicClock, monotonic_ns};
use crate::metrics::counters::Counters;
use crate::metrics::histogram::LatencyHistogram;
use crate::run::worker::{Progress, install_kick_handler, kick, run_iteration};
use crate::spec::{IterationLength, Spec, Workload};
use crate::transport::{Conn, connector, ignore_sigpipe};
use crate::workload::{ClientEnv, Heartbeat, ServerEnv, client_flow, server_flow};

/// How often the watchdog looks at a running batch.
const WATCH: Duration = Duration::from_millis(10);

/// How long one blocking wait of the workers lasts before they look at the control.
const TICK: Duration = Duration::from_millis(100);

/// How long the threads get to stop when the pair is dropped.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// What one batch of round trips measured.
pub struct Batch {
    /// Wall time of the whole batch on the client's thread (what `iter_custom` wants).
    pub elapsed: Duration,
    /// Every round trip's latency.
    pub latency: LatencyHistogram,
    /// Round trips, bytes, and (datagrams) losses.
    pub counters: Counters,
}

/// A connected client/server pair on pinned threads; see the module documentation.
pub struct Pair {
    spec: Spec,
    cpus: ResolvedPlacement,
    control: Arc<Control>,
    heartbeat: Heartbeat,
    batches: Sender<u64>,
    results: Receiver<Result<Batch>>,
    client: Option<Started<()>>,
    server: Option<Started<()>>,
    server_done: Arc<Mutex<Option<Result<()>>>>,
    broken: bool,
}

impl Pair {
    /// Connects a pair for `spec` (workload `rr`) and starts its pinned threads.
    pub fn start(spec: &Spec) -> Result<Pair, Error> {
        Pair::connect(spec).map_err(Error::from_anyhow)
    }

    fn connect(spec: &Spec) -> Result<Pair> {
        crate::workload::check(spec)?;
        if spec.workload != Workload::Rr {
            return Err(ConfigError::Invalid(format!(
                "a Pair runs round trips (workload rr), not {}; use pair::stream_batch for stream",
                spec.workload
            ))
            .into());
        }
        let cpus = Topology::detect().resolve(spec.placement)?;
        ignore_sigpipe();
        install_kick_handler();
        let engine = spec.engine_choice();
        let (client_conn, server_conn) = connector(spec)?
            .pair()
            .context("connecting the client and server")?;
        let control = Arc::new(Control::default());
        let heartbeat = Heartbeat::default();
        let server_done = Arc::new(Mutex::new(None));
        let server = {
            let (spec, control, done) = (spec.clone(), control.clone(), server_done.clone());
            PinnedThread::new("lb-pair-server", cpus.server_cpu(0), move || {
                let result = serve(&spec, &*engine_for(engine), server_conn, &control);
                *done.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
            })
        };
        let (batches, batch_rx) = mpsc::channel::<u64>();
        let (result_tx, results) = mpsc::channel();
        let client = {
            let (spec, control, beat) = (spec.clone(), control.clone(), heartbeat.clone());
            PinnedThread::new("lb-pair-client", cpus.client_cpu(0), move || {
                client_loop(
                    &spec,
                    &*engine_for(engine),
                    client_conn,
                    &control,
                    &beat,
                    &batch_rx,
                    &result_tx,
                );
            })
        };
        let mut threads = pinned::start(vec![server, client])?.release();
        let (client, server) = (threads.pop(), threads.pop());
        Ok(Pair {
            spec: spec.clone(),
            cpus,
            control,
            heartbeat,
            batches,
            results,
            client,
            server,
            server_done,
            broken: false,
        })
    }

    /// The spec the pair was started with.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// The CPUs the client and the server run on.
    pub fn cpus(&self) -> &ResolvedPlacement {
        &self.cpus
    }

    /// Runs `n` round trips and returns how long they took. A peer that makes no progress for
    /// the spec's timeout fails the batch and leaves the pair unusable.
    pub fn round_trips(&mut self, n: u64) -> Result<Batch, Error> {
        self.run_batch(n).map_err(Error::from_anyhow)
    }

    fn run_batch(&mut self, n: u64) -> Result<Batch> {
        if self.broken {
            bail!("this pair was stopped after an earlier failure; start a new one");
        }
        if self.batches.send(n).is_err() {
            self.broken = true;
            bail!("the pair's client thread is gone");
        }
        let stall = Duration::from_nanos(self.spec.timing.timeout_ns);
        let loss = Duration::from_nanos(self.spec.timing.loss_timeout_ns);
        let datagram = self.spec.transport.is_datagram();
        let mut progress = Progress::new(self.heartbeat.read());
        loop {
            match self.results.recv_timeout(WATCH) {
                Ok(r) => {
                    self.broken |= r.is_err();
                    return r;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.broken = true;
                    bail!("the pair's client thread stopped");
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            progress.observe(self.heartbeat.read());
            if datagram && progress.kick_for_loss(loss) {
                // Wake the client so it can count the lost datagram and go on.
                if let Some(c) = &self.client {
                    kick(c);
                }
            }
            if progress.still_for() > stall {
                self.broken = true;
                self.stop(RunState::Abort);
                bail!(
                    "no round trip completed for {stall:?} (the spec's .timeout(..)): the pair is stuck; \
                     server: {}",
                    self.server_outcome()
                );
            }
        }
    }

    fn server_outcome(&self) -> String {
        match &*self.server_done.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(Ok(())) => "finished".into(),
            Some(Err(e)) => format!("failed: {e:#}"),
            None => "still running".into(),
        }
    }

    /// Tells both threads to stop and waits (a bounded time) for them, waking them from any
    /// blocking call; a thread that does not stop in time is abandoned (it owns nothing else).
    fn stop(&mut self, state: RunState) {
        self.control.set(state);
        let deadline = Instant::now() + STOP_GRACE;
        for handle in [self.client.take(), self.server.take()]
            .into_iter()
            .flatten()
        {
            while !handle.is_finished() && Instant::now() < deadline {
                kick(&handle);
                std::thread::sleep(Duration::from_millis(1));
            }
            if handle.is_finished() {
                let _ = handle.join();
            }
        }
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        // Closing the batch channel ends the client loop, which closes the client's end: a
        // stream server sees EOF; a datagram server is wound down.
        let (never, _) = mpsc::channel();
        self.batches = never;
        if let Some(c) = self.client.take() {
            let deadline = Instant::now() + STOP_GRACE;
            while !c.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            self.client = Some(c);
        }
        self.stop(if self.broken {
            RunState::Abort
        } else {
            RunState::WindDown
        });
    }
}

/// The server thread: the workload's server side on its connection until the pair stops.
fn serve(spec: &Spec, engine: &dyn Engine, conn: Conn, control: &Control) -> Result<()> {
    let length = IterationLength::Count { messages: u64::MAX };
    let flow = server_flow(spec, ServerEnv::plain(MonotonicClock, length));
    let mut slots = vec![FlowSlot { conn, flow }];
    engine.drive(&mut slots, control, TICK).map(|_| ())
}

/// The client thread: one fresh `rr` client flow per batch on the same connection.
fn client_loop(
    spec: &Spec,
    engine: &dyn Engine,
    mut conn: Conn,
    control: &Control,
    heartbeat: &Heartbeat,
    batches: &Receiver<u64>,
    results: &Sender<Result<Batch>>,
) {
    while let Ok(n) = batches.recv() {
        let env = ClientEnv {
            clock: MonotonicClock,
            length: IterationLength::Count { messages: n },
            heartbeat: heartbeat.clone(),
            flow: 0,
            stamps: None,
        };
        let flow = match client_flow(spec, env, None) {
            Ok(flow) => flow,
            Err(e) => {
                let _ = results.send(Err(e));
                return;
            }
        };
        let mut slots = vec![FlowSlot { conn, flow }];
        let t0 = monotonic_ns();
        let outcome = if n == 0 {
            Ok(())
        } else {
            engine.drive(&mut slots, control, TICK).map(|_| ())
        };
        let elapsed = Duration::from_nanos(monotonic_ns() - t0);
        let FlowSlot { conn: c, flow } = slots.pop().expect("the one slot");
        conn = c;
        let report = flow.report();
        let failed = outcome.is_err();
        let batch = outcome.map(|_| Batch {
            elapsed: if n == 0 { Duration::ZERO } else { elapsed },
            latency: report
                .latency
                .unwrap_or_else(crate::metrics::histogram::new_histogram),
            counters: report.counters,
        });
        if results.send(batch).is_err() || failed {
            return;
        }
    }
}

/// What one `stream` batch measured.
#[derive(Clone, Copy, Debug)]
pub struct StreamBatch {
    /// From the receiver's first read to its last data.
    pub elapsed: Duration,
    /// Payload bytes the receiver got.
    pub bytes: u64,
}

/// One `stream` iteration of `messages` writes of `spec.size` bytes on a fresh pinned pair,
/// timed at the receiver (connection set-up and thread start are not timed).
pub fn stream_batch(
    spec: &Spec,
    cpus: &ResolvedPlacement,
    messages: u64,
) -> Result<StreamBatch, Error> {
    let never = AtomicBool::new(false);
    let out = run_iteration(spec, cpus, IterationLength::Count { messages }, &never)
        .map_err(Error::from_anyhow)?;
    Ok(StreamBatch {
        elapsed: Duration::from_nanos(out.throughput.elapsed_ns),
        bytes: out.throughput.bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{EngineKind, Placement, Transport};

    fn spec(t: Transport, p: Placement) -> Spec {
        let mut s = Spec::new(t);
        s.placement = p;
        s
    }

    #[test]
    fn batches_run_on_one_connection_for_every_transport() {
        for &t in Transport::ALL {
            for e in [EngineKind::Blocking, EngineKind::Spin] {
                let mut s = spec(t, Placement::Unpinned);
                s.engine = e;
                let mut pair = Pair::start(&s).unwrap_or_else(|err| panic!("{t} {e}: {err:#}"));
                for n in [1, 200, 0, 50] {
                    let b = pair
                        .round_trips(n)
                        .unwrap_or_else(|err| panic!("{t} {e}: {err:#}"));
                    assert_eq!(b.counters.messages + b.counters.lost, n, "{t} {e}");
                    assert_eq!(b.latency.len(), b.counters.messages, "{t} {e}");
                    assert_eq!(b.elapsed.is_zero(), n == 0, "{t} {e}");
                }
            }
        }
    }

    #[test]
    fn workers_are_pinned_where_the_placement_says() {
        let s = spec(Transport::Pipe, Placement::SameCore);
        let mut pair = Pair::start(&s).unwrap();
        let cpu = pair.cpus().client[0];
        assert_eq!(pair.cpus().server, vec![cpu]);
        assert_eq!(pair.round_trips(10).unwrap().counters.messages, 10);
    }

    #[test]
    fn a_stuck_server_fails_the_batch_instead_of_hanging() {
        // A server that takes ten times --timeout per answer (a --server-delay that long is
        // refused up front, so the slowness is the handler's).
        let mut s = spec(Transport::Tcp4, Placement::Unpinned);
        s.server_handler = Some(crate::spec::handler::ServerHandler::new("slow", || {
            |request: &[u8], response: &mut Vec<u8>| {
                std::thread::sleep(Duration::from_millis(500));
                response.extend_from_slice(request);
            }
        }));
        s.timing.timeout_ns = 50_000_000;
        let mut pair = Pair::start(&s).unwrap();
        let started = Instant::now();
        let err = pair.round_trips(3).err().expect("must fail");
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(format!("{err:#}").contains("stuck"), "{err:#}");
        assert!(pair.round_trips(1).is_err(), "a broken pair stays broken");
    }

    #[test]
    fn stream_is_refused_with_a_pointer_to_stream_batch() {
        let mut s = spec(Transport::Tcp4, Placement::Unpinned);
        s.workload = Workload::Stream;
        let err = Pair::start(&s).err().unwrap().to_string();
        assert!(err.contains("stream_batch"), "{err}");
        s.size = 4096;
        let b = stream_batch(&s, &ResolvedPlacement::default(), 100).unwrap();
        assert_eq!(b.bytes, 409_600);
        assert!(b.elapsed > Duration::ZERO);
    }
}
