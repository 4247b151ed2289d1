//! `stream`: one-way bulk transfer. The client writes `--size`-byte chunks as fast as the
//! transport takes them; the server reads and counts. Throughput is counted at the receiver, per
//! iteration and per 100 ms slice; a sender's rate is never reported as throughput (on UDP the
//! kernel happily accepts what the receiver will never see).
//!
//! Datagram transports number every datagram, and the receiver reports lost, reordered and
//! duplicated datagrams.

use anyhow::{Context, Result, bail};

use super::def::WorkloadDef;
use super::env::{ClientEnv, Heartbeat, IterationEnd, get_seq, put_seq};
use crate::engine::{Flow, FlowReport, Wait};
use crate::error::ConfigError;
use crate::metrics::clock::{Clock, MonotonicClock};
use crate::metrics::counters::Counters;
use crate::metrics::sequence::SequenceTracker;
use crate::metrics::series::SliceRecorder;
use crate::spec::{IterationLength, Spec, Workload};
use crate::store::metric::{Metric, Unit};
use crate::transport::Conn;
use crate::transport::dial::Dialer;
use crate::transport::wait::{is_disconnect, is_transient};

/// `stream` in the workload table: counted in bytes at the receiver, compared on throughput and
/// the receiver's CPU time per message.
pub struct StreamDef;

impl WorkloadDef for StreamDef {
    fn kind(&self) -> Workload {
        Workload::Stream
    }

    fn client(
        &self,
        spec: &Spec,
        env: ClientEnv<MonotonicClock>,
        _dialer: Option<Dialer>,
    ) -> Result<Box<dyn Flow>> {
        Ok(Box::new(StreamClient::new(spec, env)))
    }

    fn server(&self, spec: &Spec, length: IterationLength, clock: MonotonicClock) -> Box<dyn Flow> {
        Box::new(StreamServer::new(spec, length, clock))
    }

    fn check_settings(&self, spec: &Spec) -> Result<(), ConfigError> {
        if !spec.zerocopy.is_copy() {
            return Err(ConfigError::Invalid(format!(
                "--zerocopy {} is not built yet (issue 19's next slice)",
                spec.zerocopy
            )));
        }
        Ok(())
    }

    fn counted_by_server(&self) -> bool {
        true
    }

    fn moves_bulk_data(&self) -> bool {
        true
    }

    fn throughput_unit(&self) -> Unit {
        Unit::BytesPerSec
    }

    fn compared_on(&self) -> &'static [Metric] {
        &[Metric::Throughput, Metric::ReceiverCpu]
    }
}

/// The sending side of a `stream` flow.
pub struct StreamClient<C: Clock> {
    clock: C,
    chunk: Vec<u8>,
    datagram: bool,
    /// Bytes of the current chunk already written.
    offset: usize,
    end: IterationEnd,
    counters: Counters,
    heartbeat: Heartbeat,
    timeout_ns: u64,
    blocked_since_ns: Option<u64>,
}

impl<C: Clock> StreamClient<C> {
    /// A sender for `spec`.
    pub fn new(spec: &Spec, env: ClientEnv<C>) -> StreamClient<C> {
        StreamClient {
            clock: env.clock,
            chunk: vec![0x5a; spec.size],
            datagram: spec.transport.is_datagram(),
            offset: 0,
            end: IterationEnd::new(env.length),
            counters: Counters::default(),
            heartbeat: env.heartbeat,
            timeout_ns: spec.timing.timeout_ns,
            blocked_since_ns: None,
        }
    }
}

impl<C: Clock> Flow for StreamClient<C> {
    fn progress(&mut self, conn: &mut Conn) -> Result<Wait> {
        loop {
            // Between chunks, and not after a write that would block (a completion engine has
            // submitted it, so it must be retried first): the only place an iteration may end.
            if self.offset == 0 && self.blocked_since_ns.is_none() {
                if self
                    .end
                    .reached(self.clock.now_ns(), self.counters.messages)
                {
                    return Ok(Wait::Done);
                }
                if self.datagram {
                    put_seq(&mut self.chunk, self.counters.messages + 1);
                }
            }
            match conn.write(&self.chunk[self.offset..]) {
                Ok(n) => {
                    self.blocked_since_ns = None;
                    self.offset += n;
                    self.counters.bytes_sent += n as u64;
                    if self.offset == self.chunk.len() {
                        self.offset = 0;
                        self.counters.messages += 1;
                        self.heartbeat.beat(self.counters.messages);
                    }
                }
                Err(e) if is_transient(&e) => {
                    let now = self.clock.now_ns();
                    let since = *self.blocked_since_ns.get_or_insert(now);
                    if now - since >= self.timeout_ns {
                        bail!(
                            "the receiver took nothing for {} ms; it is stuck or gone",
                            self.timeout_ns / 1_000_000
                        );
                    }
                    return Ok(Wait::Write);
                }
                // Datagram sockets report a full receive queue on the other side as ENOBUFS
                // on some kernels; that datagram is simply lost, as on the wire.
                Err(e) if self.datagram && e.raw_os_error() == Some(libc::ENOBUFS) => {
                    self.blocked_since_ns = None;
                    self.offset = 0;
                    self.counters.messages += 1;
                }
                Err(e) => return Err(e).context("writing a chunk"),
            }
        }
    }

    fn report(self: Box<Self>) -> FlowReport {
        FlowReport {
            counters: self.counters,
            ..FlowReport::default()
        }
    }
}

/// Smallest read a byte-stream receiver asks for: it takes whatever has arrived (up to this
/// much) in one system call instead of one `--size` chunk at a time, as iperf3 and any bulk
/// receiver do (iperf3 reads 128 KiB); fewer reads per byte is the receiver's honest best.
pub const MIN_STREAM_READ: usize = 256 * 1024;

/// The receive buffer of a stream receiver: exactly one datagram or seqpacket message when the
/// transport keeps boundaries, else at least [`MIN_STREAM_READ`].
fn receive_buffer(spec: &Spec) -> usize {
    if spec.transport.preserves_boundaries() {
        spec.size
    } else {
        spec.size.max(MIN_STREAM_READ)
    }
}

/// The receiving side of a `stream` flow.
pub struct StreamServer<C: Clock> {
    clock: C,
    buf: Vec<u8>,
    chunk: u64,
    datagram: bool,
    counters: Counters,
    sequence: SequenceTracker,
    slices: SliceRecorder,
}

impl<C: Clock> StreamServer<C> {
    /// A receiver for `spec` over an iteration of `length`.
    pub fn new(spec: &Spec, length: IterationLength, clock: C) -> StreamServer<C> {
        StreamServer {
            clock,
            buf: vec![0; receive_buffer(spec)],
            chunk: spec.size as u64,
            datagram: spec.transport.is_datagram(),
            counters: Counters::default(),
            sequence: SequenceTracker::default(),
            slices: SliceRecorder::new(length),
        }
    }
}

impl<C: Clock> Flow for StreamServer<C> {
    fn progress(&mut self, conn: &mut Conn) -> Result<Wait> {
        self.slices.start(|| self.clock.now_ns());
        loop {
            // Lent: a completion engine with provided buffers hands the bytes over where the
            // kernel put them; a receiver that counts needs no copy of its own.
            match conn.read_lent(&mut self.buf) {
                Ok([]) => return Ok(Wait::Done),
                Ok(data) => {
                    let n = data.len();
                    let msgs = if self.datagram {
                        if n != self.chunk as usize {
                            bail!("expected a {}-byte datagram, got {n} bytes", self.chunk);
                        }
                        self.sequence.arrived(get_seq(data));
                        1
                    } else {
                        // Message-equivalents: a byte stream has no boundaries, so a message is
                        // counted each time another `--size` bytes have arrived.
                        let before = self.counters.bytes_received / self.chunk;
                        (self.counters.bytes_received + n as u64) / self.chunk - before
                    };
                    self.counters.bytes_received += n as u64;
                    self.counters.messages += msgs;
                    self.slices.record(self.clock.now_ns(), msgs, n as u64);
                }
                Err(e) if is_transient(&e) => return Ok(Wait::Read),
                Err(e) if is_disconnect(&e) => return Ok(Wait::Done),
                Err(e) => return Err(e).context("reading a chunk"),
            }
        }
    }

    fn report(self: Box<Self>) -> FlowReport {
        let mut counters = self.counters;
        if self.datagram {
            counters.lost = self.sequence.lost();
            counters.reordered = self.sequence.reordered();
            counters.duplicated = self.sequence.duplicated();
        }
        let span = self.slices.span_ns();
        FlowReport {
            counters,
            receive_span_ns: Some(span),
            slices: self.slices.finish(),
            ..FlowReport::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::clock::MonotonicClock;
    use crate::spec::Transport;
    use crate::transport::connector;

    fn run(spec: &Spec, chunks: u64) -> (FlowReport, FlowReport) {
        let (mut c, mut s) = connector(spec).unwrap().pair().unwrap();
        let mut server = StreamServer::new(
            spec,
            IterationLength::Count { messages: chunks },
            MonotonicClock,
        );
        let t = std::thread::spawn(move || {
            while server.progress(&mut s).unwrap() != Wait::Done {}
            Box::new(server).report()
        });
        let env = ClientEnv {
            clock: MonotonicClock,
            length: IterationLength::Count { messages: chunks },
            heartbeat: Heartbeat::default(),
        };
        let mut client = StreamClient::new(spec, env);
        while client.progress(&mut c).unwrap() != Wait::Done {}
        drop(c);
        (Box::new(client).report(), t.join().unwrap())
    }

    #[test]
    fn every_byte_sent_on_a_stream_is_counted_at_the_receiver() {
        for t in [
            Transport::Tcp4,
            Transport::UnixStream,
            Transport::Pipe,
            Transport::Shm,
        ] {
            let mut spec = Spec::new(t);
            spec.size = 10_000;
            let (client, server) = run(&spec, 300);
            assert_eq!(client.counters.messages, 300, "{t}");
            assert_eq!(server.counters.bytes_received, 3_000_000, "{t}");
            assert_eq!(server.counters.messages, 300, "{t}");
            let sliced: u64 = server.slices.iter().map(|s| s.bytes).sum();
            assert_eq!(sliced, 3_000_000, "{t}: slices add up");
        }
    }

    #[test]
    fn seqpacket_keeps_message_boundaries() {
        let mut spec = Spec::new(Transport::UnixSeqpacket);
        spec.size = 512;
        let (_, server) = run(&spec, 1000);
        assert_eq!(server.counters.messages, 1000);
    }
}
