//! A connected client/server pair that you drive with your own code (your own framing, your own
//! protocol state machine), with the harness's placement, pinning, timing and histograms.
//!
//! The server side runs your closure on its pinned thread with the server's [`Conn`]; the
//! client's [`Conn`] is yours, on whatever thread you like ([`CustomPair::pin_client_here`] pins
//! the calling thread to the client's CPU). [`Conn`] implements `std::io::Read` and `Write`.
//!
//! ```
//! use std::io::{Read, Write};
//! use loopbench::embed::custom::{CustomPair, Recorder};
//! use loopbench::spec::{Placement, Spec, Transport};
//!
//! let spec = Spec::builder(Transport::UnixStream).placement(Placement::Unpinned).build()?;
//! // The server: echo 8-byte messages until the client hangs up.
//! let mut pair = CustomPair::start(&spec, |mut conn| {
//!     let mut buf = [0u8; 8];
//!     while conn.read_exact(&mut buf).is_ok() {
//!         conn.write_all(&buf)?;
//!     }
//!     Ok(())
//! })?;
//! let mut rec = Recorder::new();
//! let mut buf = [0u8; 8];
//! for i in 0..1000u64 {
//!     rec.time(|| {
//!         pair.client().write_all(&i.to_le_bytes()).unwrap();
//!         pair.client().read_exact(&mut buf).unwrap();
//!     });
//! }
//! pair.finish()?;
//! assert_eq!(rec.histogram().len(), 1000);
//! # anyhow::Ok(())
//! ```

use std::io::{self, Read, Write};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};

use crate::host::pinned::{self, PinnedThread, Started, pin_current_thread};
use crate::host::topology::{ResolvedPlacement, Topology};
use crate::metrics::clock::monotonic_ns;
use crate::metrics::histogram::{LatencyHistogram, LatencySummary, new_histogram, record};
use crate::spec::Spec;
use crate::transport::{Conn, connector, ignore_sigpipe};

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

/// A connected pair whose server side runs your closure on its pinned thread.
pub struct CustomPair {
    client: Option<Conn>,
    cpus: ResolvedPlacement,
    server: Option<Started<()>>,
    done: mpsc::Receiver<Result<()>>,
}

impl CustomPair {
    /// Resolves the spec's placement, connects one pair over its transport (with its addresses
    /// and socket options), and starts `server` with the server's connection on a thread pinned
    /// to the server's CPU. Fails, naming the CPU, when that thread cannot be pinned.
    pub fn start<F>(spec: &Spec, server: F) -> Result<CustomPair>
    where
        F: FnOnce(Conn) -> Result<()> + Send + 'static,
    {
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

    /// The client's connection.
    pub fn client(&mut self) -> &mut Conn {
        self.client
            .as_mut()
            .expect("the client connection lives until finish()")
    }

    /// The CPUs the placement resolved to.
    pub fn cpus(&self) -> &ResolvedPlacement {
        &self.cpus
    }

    /// Pins the calling thread to the client's CPU (a no-op when the placement is unpinned).
    pub fn pin_client_here(&self) -> Result<()> {
        match self.cpus.client_cpu(0) {
            Some(cpu) => pin_current_thread(cpu),
            None => Ok(()),
        }
    }

    /// Closes the client's connection (the server sees end of stream) and waits for the server
    /// closure's result.
    pub fn finish(mut self) -> Result<()> {
        self.client.take();
        let result = self.done.recv_timeout(FINISH_TIMEOUT).map_err(|_| {
            anyhow!(
                "the server closure did not return within {FINISH_TIMEOUT:?} of the client closing"
            )
        })?;
        if let Some(h) = self.server.take() {
            let _ = h.join();
        }
        result.context("the server closure failed")
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
