//! `stream`: one-way bulk transfer. The client writes `--size`-byte chunks as fast as the
//! transport takes them; the server reads and counts. Throughput is counted at the receiver, per
//! iteration and per 100 ms slice; a sender's rate is never reported as throughput (on UDP the
//! kernel happily accepts what the receiver will never see).
//!
//! Datagram transports number every datagram, and the receiver reports lost, reordered and
//! duplicated datagrams.
//!
//! `--zerocopy` moves the bytes on another path (see [`zerocopy`]):
//! the sender's MSG_ZEROCOPY, sendfile or splice, the receiver's TCP_ZEROCOPY_RECEIVE; each
//! side's counters then carry what the kernel reported doing (`counters.zerocopy`).

use std::os::fd::RawFd;

use anyhow::{Context, Result, bail};

use super::def::WorkloadDef;
use super::env::{ClientEnv, Heartbeat, IterationEnd, ServerEnv, get_seq, put_seq};
use crate::engine::{Flow, FlowReport, Wait};
use crate::error::ConfigError;
use crate::metrics::clock::{Clock, MonotonicClock};
use crate::metrics::counters::Counters;
use crate::metrics::sequence::SequenceTracker;
use crate::metrics::series::SliceRecorder;
use crate::spec::{IterationLength, Spec, Transport, Workload, ZeroCopy};
use crate::store::metric::{Metric, Unit};
use crate::transport::Conn;
use crate::transport::dial::Dialer;
use crate::transport::wait::{is_disconnect, is_transient};
use crate::transport::zerocopy;
use crate::transport::zerocopy::recv::ZcReceiver;
use crate::transport::zerocopy::send::Sender;

/// How long a MSG_ZEROCOPY sender waits at the end of an iteration for its last notifications.
const NOTIFICATION_WAIT_NS: u64 = 2_000_000_000;

/// The mmap window of a TCP_ZEROCOPY_RECEIVE receiver: 4 MiB, more than lo's receive queue
/// holds at once with the default tcp_rmem.
const RECEIVE_WINDOW: usize = 4 << 20;

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

    fn server(&self, spec: &Spec, env: ServerEnv<MonotonicClock>) -> Box<dyn Flow> {
        Box::new(StreamServer::new(spec, env.length, env.clock))
    }

    fn takes_stages(&self) -> bool {
        false
    }

    fn check_settings(&self, spec: &Spec) -> Result<(), ConfigError> {
        zerocopy::check::check(spec)
    }

    fn fit(&self, spec: &mut Spec) {
        if spec.workload != Workload::Stream {
            spec.zerocopy = ZeroCopy::Copy;
        }
    }

    fn has_responses(&self) -> bool {
        false
    }

    fn counted_by_server(&self) -> bool {
        true
    }

    fn histograms(&self) -> u64 {
        0
    }

    fn memory_per_flow(&self, spec: &Spec) -> u64 {
        (spec.size + receive_buffer(spec)) as u64
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
    /// `--zerocopy`: the path and transport; the sender is opened on the first step (it needs
    /// the socket) and is `None` for the copy path.
    zerocopy: (ZeroCopy, Transport),
    sender: Option<(Sender, RawFd)>,
    /// `--zerocopy send` on a completion engine: the engine sends zero-copy (io_uring's
    /// SEND_ZC) and counts what the kernel did; read when the iteration ends.
    engine_sends_zc: bool,
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
            zerocopy: (spec.zerocopy, spec.transport),
            sender: None,
            engine_sends_zc: false,
        }
    }

    /// Opens the zero-copy sender on the first step, when the mode has one (or asks the
    /// completion engine to send zero-copy).
    fn open_sender(&mut self, conn: &mut Conn) -> Result<()> {
        let (mode, transport) = self.zerocopy;
        if mode.is_copy() || mode == ZeroCopy::Recv || self.sender.is_some() {
            return Ok(());
        }
        if self.engine_sends_zc {
            return Ok(());
        }
        if conn.send_zerocopy()? {
            self.engine_sends_zc = true;
            return Ok(());
        }
        let fd = conn
            .write_fd()
            .context("--zerocopy needs a connection with a file descriptor")?;
        self.sender = Some((Sender::open(mode, transport, fd, &self.chunk)?, fd));
        Ok(())
    }

    /// Writes from the current offset, through the connection or the zero-copy sender.
    fn write(&mut self, conn: &mut Conn) -> std::io::Result<usize> {
        match &mut self.sender {
            Some((sender, fd)) => {
                let may_sleep = !conn.is_nonblocking();
                sender.send(*fd, &self.chunk, self.offset, may_sleep)
            }
            None => conn.write(&self.chunk[self.offset..]),
        }
    }
}

impl<C: Clock> Flow for StreamClient<C> {
    fn progress(&mut self, conn: &mut Conn) -> Result<Wait> {
        self.open_sender(conn)?;
        loop {
            // Between chunks, and not after a write that would block (a completion engine has
            // submitted it, so it must be retried first): the only place an iteration may end.
            if self.offset == 0 && self.blocked_since_ns.is_none() {
                if self
                    .end
                    .reached(self.clock.now_ns(), self.counters.messages)
                {
                    if let Some((sender, fd)) = &mut self.sender {
                        sender
                            .finish(*fd, NOTIFICATION_WAIT_NS)
                            .context("reaping MSG_ZEROCOPY notifications")?;
                    }
                    if self.engine_sends_zc {
                        // Every large write completed with its notification; small ones
                        // were counted as copied when the slot took them.
                        self.counters.zerocopy = conn.zerocopy_counts().unwrap_or_default();
                    }
                    return Ok(Wait::Done);
                }
                if self.datagram {
                    put_seq(&mut self.chunk, self.counters.messages + 1);
                }
            }
            match self.write(conn) {
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
        let mut counters = self.counters;
        if let Some((sender, _)) = &self.sender {
            counters.zerocopy = sender.counts();
        }
        FlowReport {
            counters,
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
    /// `--zerocopy recv`/`send-recv`: true until the mmap window is opened on the first step.
    wants_mapping: bool,
    mapped: Option<ZcReceiver>,
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
            wants_mapping: matches!(spec.zerocopy, ZeroCopy::Recv | ZeroCopy::SendRecv),
            mapped: None,
        }
    }

    /// Counts `n` bytes of a byte stream: a message each time another `--size` bytes arrived.
    fn count_stream(&mut self, n: usize) {
        let before = self.counters.bytes_received / self.chunk;
        let msgs = (self.counters.bytes_received + n as u64) / self.chunk - before;
        self.counters.bytes_received += n as u64;
        self.counters.messages += msgs;
        self.slices.record(self.clock.now_ns(), msgs, n as u64);
    }

    /// TCP_ZEROCOPY_RECEIVE: takes what is queued (mapped where the kernel can, else copied),
    /// and sleeps in poll when nothing is.
    fn progress_mapped(&mut self, conn: &Conn) -> Result<Wait> {
        if self.mapped.is_none() {
            let fd = conn
                .read_fd()
                .context("--zerocopy recv needs a connection with a file descriptor")?;
            self.mapped = Some(
                ZcReceiver::new(fd, RECEIVE_WINDOW)
                    .context("mmap of the TCP socket for --zerocopy recv (TCP_ZEROCOPY_RECEIVE)")?,
            );
        }
        loop {
            let rx = self.mapped.as_mut().expect("opened above");
            match rx.receive(&mut self.buf) {
                Ok((0, true)) => return Ok(Wait::Done),
                Ok((0, false)) => {
                    // A non-blocking engine waits for readability itself (or spins).
                    if !conn.is_nonblocking() {
                        rx.wait().context("waiting for the socket to be readable")?;
                    }
                    return Ok(Wait::Read);
                }
                Ok((n, _)) => self.count_stream(n),
                Err(e) if is_transient(&e) => return Ok(Wait::Read),
                Err(e) if is_disconnect(&e) => return Ok(Wait::Done),
                Err(e) => return Err(e).context("receiving with TCP_ZEROCOPY_RECEIVE"),
            }
        }
    }
}

impl<C: Clock> Flow for StreamServer<C> {
    fn progress(&mut self, conn: &mut Conn) -> Result<Wait> {
        self.slices.start(|| self.clock.now_ns());
        if self.wants_mapping {
            return self.progress_mapped(conn);
        }
        loop {
            // Lent: a completion engine with provided buffers hands the bytes over where the
            // kernel put them; a receiver that counts needs no copy of its own.
            match conn.read_lent(&mut self.buf) {
                Ok([]) => return Ok(Wait::Done),
                Ok(data) if self.datagram => {
                    let n = data.len();
                    if n != self.chunk as usize {
                        bail!("expected a {}-byte datagram, got {n} bytes", self.chunk);
                    }
                    self.sequence.arrived(get_seq(data));
                    self.counters.bytes_received += n as u64;
                    self.counters.messages += 1;
                    self.slices.record(self.clock.now_ns(), 1, n as u64);
                }
                // Message-equivalents: a byte stream has no boundaries, so a message is counted
                // each time another `--size` bytes have arrived.
                Ok(data) => {
                    let n = data.len();
                    self.count_stream(n);
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
        if let Some(rx) = &self.mapped {
            counters.zerocopy = rx.counts();
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
            flow: 0,
            stamps: None,
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
    fn every_zero_copy_mode_counts_every_byte_and_says_what_the_kernel_did() {
        let cases = crate::transport::zerocopy::check::EVERY_PATH;
        for (t, zc) in cases {
            let mut spec = Spec::new(t);
            spec.workload = Workload::Stream;
            spec.zerocopy = zc;
            spec.size = 64 * 1024;
            zerocopy::check::check(&spec).unwrap();
            let (client, server) = run(&spec, 200);
            let (sent, got) = (client.counters.zerocopy, server.counters.zerocopy);
            assert_eq!(server.counters.bytes_received, 200 * 65536, "{t} {zc}");
            let bytes = client.counters.bytes_sent;
            match zc {
                ZeroCopy::Send | ZeroCopy::SendRecv => {
                    let reported = sent.zerocopy_bytes + sent.copied_bytes;
                    assert_eq!(reported + sent.unnotified_bytes, bytes, "{zc}: {sent:?}");
                    assert!(sent.notifications > 0, "{zc}: {sent:?}");
                }
                ZeroCopy::Sendfile | ZeroCopy::Splice => {
                    assert_eq!(sent.by_reference_bytes, bytes, "{t} {zc}: {sent:?}")
                }
                _ => assert!(sent.is_empty(), "{zc}: the sender copied: {sent:?}"),
            }
            if matches!(zc, ZeroCopy::Recv | ZeroCopy::SendRecv) {
                assert_eq!(
                    got.zerocopy_bytes + got.copied_bytes,
                    bytes,
                    "{zc}: {got:?}"
                );
                assert!(got.zerocopy_receives > 0, "{zc}: {got:?}");
            } else {
                assert!(got.is_empty(), "{zc}: the receiver copied: {got:?}");
            }
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
