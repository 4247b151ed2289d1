//! A connected pair that you drive with your own code (your own framing, your own protocol
//! state machine), with the harness's placement, pinning, timing and histograms.
//!
//! The server side runs your closure on its pinned thread with the server's [`Conn`]; the
//! client's [`Conn`] is yours: [`CustomPair::run_client`] runs your client code on a thread of
//! its own pinned to the client's CPU (the calling thread's affinity is never touched), or use
//! [`CustomPair::client`] from any thread. [`Conn`] implements `std::io::Read` and `Write`. Both
//! closures may fail with an error type of your own.
//!
//! ```
//! use std::io::{Read, Write};
//! use loopbench::embed::custom::{CustomPair, Recorder};
//! use loopbench::spec::{Placement, Spec, Transport};
//!
//! let spec = Spec::builder(Transport::UnixStream).placement(Placement::Unpinned).build()?;
//! // The server: echo 8-byte messages until the client hangs up.
//! let mut pair = CustomPair::start(&spec, |mut conn| -> std::io::Result<()> {
//!     let mut buf = [0u8; 8];
//!     while conn.read_exact(&mut buf).is_ok() {
//!         conn.write_all(&buf)?;
//!     }
//!     Ok(())
//! })?;
//! // The client: on a thread pinned where the placement says, timing each round trip.
//! let rec = pair.run_client(|conn| -> std::io::Result<Recorder> {
//!     let mut rec = Recorder::new();
//!     let mut buf = [0u8; 8];
//!     for i in 0..1000u64 {
//!         let start = rec.now_ns();
//!         conn.write_all(&i.to_le_bytes())?;
//!         conn.read_exact(&mut buf)?;
//!         rec.record_since(start);
//!     }
//!     Ok(rec)
//! })??;
//! pair.finish()?;
//! assert_eq!(rec.histogram().len(), 1000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{self, Read, Write};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context;

use crate::error::Error;
use crate::host::pinned::{self, PinnedThread, Started, pin_current_thread};
use crate::host::topology::{ResolvedPlacement, Topology};
use crate::metrics::clock::monotonic_ns;
use crate::metrics::histogram::{LatencyHistogram, LatencySummary, new_histogram, record};
use crate::spec::Spec;
pub use crate::transport::Conn;
use crate::transport::{connector, ignore_sigpipe};

impl Read for Conn {
    /// Blocking read (the connection is in blocking mode unless you changed it); retries when a
    /// signal interrupts it.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match Conn::read(self, buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }
}

impl Write for Conn {
    /// Blocking write; retries when a signal interrupts it.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match Conn::write(self, buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// How long [`CustomPair::finish`] waits for the server closure to return.
const FINISH_TIMEOUT: Duration = Duration::from_secs(10);

/// What a server closure hands back: its own error, boxed.
type ServerOutcome = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// A connected pair whose server side runs your closure on its pinned thread.
pub struct CustomPair {
    client: Option<Conn>,
    cpus: ResolvedPlacement,
    server: Option<Started<()>>,
    done: mpsc::Receiver<ServerOutcome>,
}

impl CustomPair {
    /// Resolves the spec's placement, connects one pair over its transport (with its addresses
    /// and socket options), and starts `server` with the server's connection on a thread pinned
    /// to the server's CPU. Fails, naming the CPU, when that thread cannot be pinned. `server`
    /// may fail with any error type of yours; [`CustomPair::finish`] hands it back.
    pub fn start<F, E>(spec: &Spec, server: F) -> Result<CustomPair, Error>
    where
        F: FnOnce(Conn) -> Result<(), E> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        CustomPair::connect(spec, move |conn| server(conn).map_err(Into::into))
            .map_err(Error::from_anyhow)
    }

    fn connect(
        spec: &Spec,
        server: impl FnOnce(Conn) -> ServerOutcome + Send + 'static,
    ) -> anyhow::Result<CustomPair> {
        crate::workload::check(spec)?;
        ignore_sigpipe();
        let cpus = Topology::detect().resolve(spec.placement)?;
        let (mut client, mut server_conn) = connector(spec)?
            .pair()
            .context("connecting the client and server")?;
        client.set_nonblocking(false)?;
        server_conn.set_nonblocking(false)?;
        let (tx, done) = mpsc::channel();
        let thread = PinnedThread::new("lb-custom-server", cpus.server_cpu(0), move || {
            let _ = tx.send(server(server_conn));
        });
        let server = pinned::start(vec![thread])?.release().pop();
        Ok(CustomPair {
            client: Some(client),
            cpus,
            server,
            done,
        })
    }

    /// The client's connection, for use on any thread (not pinned by loopbench; see
    /// [`CustomPair::run_client`]).
    pub fn client(&mut self) -> &mut Conn {
        self.client
            .as_mut()
            .expect("the client connection lives until finish()")
    }

    /// The CPUs the placement resolved to.
    pub fn cpus(&self) -> &ResolvedPlacement {
        &self.cpus
    }

    /// Runs `client` with the client's connection on a thread of its own pinned to the client's
    /// CPU (not pinned when the placement is unpinned) and returns what it returns (your own
    /// `Result`, if it fails). The calling thread's CPU affinity is never changed, so pairs
    /// started one after another from one thread each get their placement. Fails when the
    /// thread cannot be started or pinned; a panic in `client` is resumed here.
    pub fn run_client<R, F>(&mut self, client: F) -> Result<R, Error>
    where
        F: FnOnce(&mut Conn) -> R + Send,
        R: Send,
    {
        let cpu = self.cpus.client_cpu(0);
        let conn = self.client();
        std::thread::scope(|scope| {
            let thread = std::thread::Builder::new()
                .name("lb-custom-client".into())
                .spawn_scoped(scope, move || -> anyhow::Result<R> {
                    if let Some(cpu) = cpu {
                        pin_current_thread(cpu)?;
                    }
                    Ok(client(conn))
                })
                .map_err(|e| Error::Measurement(format!("starting the client thread: {e}")))?;
            match thread.join() {
                Ok(out) => out.map_err(Error::from_anyhow),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }

    /// Closes the client's connection (the server sees end of stream) and waits for the server
    /// closure's result: [`Error::Closure`] with your error when it failed.
    pub fn finish(mut self) -> Result<(), Error> {
        self.client.take();
        let result = self.done.recv_timeout(FINISH_TIMEOUT);
        if let Some(h) = self.server.take() {
            if !matches!(result, Err(mpsc::RecvTimeoutError::Timeout)) {
                let _ = h.join();
            }
        }
        match result {
            Ok(outcome) => outcome.map_err(Error::Closure),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(Error::Measurement(format!(
                "the server closure did not return within {FINISH_TIMEOUT:?} of the client \
                 closing its connection (does it stop at end of stream?)"
            ))),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(Error::Measurement(
                "the server closure panicked (see the panic message above)".into(),
            )),
        }
    }
}

/// Times operations into a latency histogram, the way the harness does (CLOCK_MONOTONIC, a
/// pre-sized histogram: recording allocates nothing).
pub struct Recorder {
    histogram: LatencyHistogram,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new()
    }
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Recorder {
        Recorder {
            histogram: new_histogram(),
        }
    }

    /// Runs `f` and records how long it took.
    #[inline]
    pub fn time<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let t0 = monotonic_ns();
        let out = f();
        record(&mut self.histogram, monotonic_ns() - t0);
        out
    }

    /// The current time in nanoseconds, to pass to [`Recorder::record_since`].
    #[inline]
    pub fn now_ns(&self) -> u64 {
        monotonic_ns()
    }

    /// Records the time since `start_ns`.
    #[inline]
    pub fn record_since(&mut self, start_ns: u64) {
        record(&mut self.histogram, monotonic_ns().saturating_sub(start_ns));
    }

    /// Everything recorded so far.
    pub fn histogram(&self) -> &LatencyHistogram {
        &self.histogram
    }

    /// The summary run.json uses (count, percentiles, mean, ...).
    pub fn summary(&self) -> LatencySummary {
        LatencySummary::of(&self.histogram)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Placement, Transport};

    #[test]
    fn the_server_closure_sees_end_of_stream_and_its_error_is_reported() {
        let spec = Spec::builder(Transport::Pipe)
            .placement(Placement::Unpinned)
            .build()
            .unwrap();
        let pair = CustomPair::start(&spec, |mut c| {
            let mut b = [0u8; 1];
            assert_eq!(c.read(&mut b)?, 0, "end of stream once the client finished");
            anyhow::bail!("my server failed")
        })
        .unwrap();
        let err = pair.finish().unwrap_err();
        assert!(format!("{err:#}").contains("my server failed"), "{err:#}");
    }

    #[test]
    fn recorded_times_are_counted() {
        let mut r = Recorder::new();
        let start = r.now_ns();
        r.time(|| std::hint::black_box(1 + 1));
        r.record_since(start);
        assert_eq!(r.summary().count, 2);
    }
}
