//! `crr`: connect, request, response, close — a fresh connection per transaction, as a web
//! client without keep-alive does. The client records each transaction's latency, from socket
//! creation to the last byte of the response (the close follows at once and counts in the
//! connection rate), and every local port it used; the server accepts, answers, waits for the
//! client's close and closes.
//!
//! The flows replace their slot's connection (the client dials a new one per transaction, the
//! server swaps between its listener and the accepted connection) and keep the replaced one
//! open until their next step (see [`Retired`]).

use anyhow::{Context, Result, bail};

use super::def::{Connections, Measured, WorkloadDef};
use super::env::{ClientEnv, Heartbeat, IterationEnd, ServerEnv, get_seq, put_seq};
use super::external::MAX_DELIMITED_RESPONSE;
use super::handler::{request_payload, response_framing};
use crate::engine::{Flow, FlowReport, Retired, Wait};
use crate::error::ConfigError;
use crate::metrics::clock::{Clock, MonotonicClock};
use crate::metrics::counters::Counters;
use crate::metrics::histogram::{LatencyHistogram, new_histogram, record};
use crate::metrics::ports::PortSet;
use crate::metrics::stamps::{ClientStamps, ServerStamps, StampLog};
use crate::spec::framing::Framing;
use crate::spec::http1;
use crate::spec::{Spec, Transport, Workload};
use crate::store::optional::{ConnectionRecord, IterationExtras, SummaryExtras};
use crate::transport::Conn;
use crate::transport::dial::{Dialer, ephemeral_port_range, local_port};
use crate::transport::wait::{is_disconnect, is_transient};

/// `crr` in the workload table: a listener and dialers instead of connected pairs, its settings
/// are [`Spec::crr`], and its record counts connections and ports.
pub struct CrrDef;

/// Whether `--spread` applies: crr over tcp4 (source addresses from 127/8).
fn takes_spread(spec: &Spec) -> bool {
    spec.workload == Workload::Crr && spec.transport == Transport::Tcp4
}

/// Whether `--linger0` applies: crr over TCP.
fn takes_linger0(spec: &Spec) -> bool {
    spec.workload == Workload::Crr && matches!(spec.transport, Transport::Tcp4 | Transport::Tcp6)
}

impl WorkloadDef for CrrDef {
    fn kind(&self) -> Workload {
        Workload::Crr
    }

    fn connections(&self) -> Connections {
        Connections::PerTransaction
    }

    fn takes_framing(&self) -> bool {
        true
    }

    fn check(&self, spec: &Spec) -> Result<(), ConfigError> {
        if !matches!(
            spec.transport,
            Transport::Tcp4 | Transport::Tcp6 | Transport::UnixStream | Transport::UnixSeqpacket
        ) {
            return Err(ConfigError::Invalid(format!(
                "crr (connect/request/response/close) needs a connection-oriented transport (tcp4, tcp6, unix-stream, unix-seqpacket), not {}",
                spec.transport
            )));
        }
        Ok(())
    }

    fn check_settings(&self, spec: &Spec) -> Result<(), ConfigError> {
        if spec.crr.spread.is_some() && !takes_spread(spec) {
            return Err(ConfigError::Invalid(
                "--spread (client source addresses) applies to -w crr over tcp4".into(),
            ));
        }
        if spec.crr.spread.is_some() && spec.client_addr.is_some() {
            return Err(ConfigError::Invalid(
                "--spread and --client-addr both set the client source address; give one".into(),
            ));
        }
        if spec.crr.linger0 && !takes_linger0(spec) {
            return Err(ConfigError::Invalid(
                "--linger0 (close with RST, no TIME_WAIT) applies to -w crr over tcp4/tcp6".into(),
            ));
        }
        Ok(())
    }

    fn fit(&self, spec: &mut Spec) {
        if !takes_linger0(spec) {
            spec.crr.linger0 = false;
        }
        if !takes_spread(spec) {
            spec.crr.spread = None;
        }
    }

    fn client(
        &self,
        spec: &Spec,
        env: ClientEnv<MonotonicClock>,
        dialer: Option<Dialer>,
    ) -> Result<Box<dyn Flow>> {
        let dialer = dialer.ok_or_else(|| anyhow::anyhow!("a crr client needs a dialer"))?;
        Ok(Box::new(CrrClient::new(spec, env, dialer)))
    }

    fn server(&self, spec: &Spec, env: ServerEnv<MonotonicClock>) -> Box<dyn Flow> {
        Box::new(CrrServer::new(spec).stamped(env))
    }

    fn record(&self, spec: &Spec, measured: &Measured<'_>, extras: &mut IterationExtras) {
        extras.connections = Some(ConnectionRecord {
            connections: measured.client.connections,
            addr_not_avail: measured.client.addr_not_avail,
            ports_used: measured.ports.map_or(0, |p| p.count()),
            ephemeral_port_range: ephemeral_port_range(),
            source_addresses: spec.crr.spread.map_or(1, |r| r.len()),
            close: if spec.crr.linger0 { "linger0" } else { "fin" }.into(),
        });
    }

    fn notes(&self, summary: &SummaryExtras) -> Vec<String> {
        summary
            .connections
            .iter()
            .map(|k| format!("ports {} EADDRNOTAVAIL {}", k.ports_used, k.addr_not_avail))
            .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Between transactions: dial the next connection.
    Dial,
    /// Writing the request; bytes written so far.
    Sending(usize),
    /// Reading the response; bytes read so far.
    Receiving(usize),
}

/// The client side of a crr flow: sends the case's request (the user's, against a `--connect`
/// service, or `--size` bytes) and reads a response framed as the case says.
pub struct CrrClient<C: Clock> {
    clock: C,
    dialer: Dialer,
    request: Vec<u8>,
    response: Vec<u8>,
    framing: Framing,
    phase: Phase,
    started_ns: u64,
    end: IterationEnd,
    timeout_ns: u64,
    retired: Retired,
    ports: Box<PortSet>,
    histogram: LatencyHistogram,
    counters: Counters,
    heartbeat: Heartbeat,
    stamps: Option<StampLog<ClientStamps>>,
    flow: u32,
    /// `--stages`: the current request's first send call is stamped.
    send_called: bool,
}

/// `--stages`: a crr request carries its client flow and sequence number in its first 8 bytes
/// (a flow's server may accept another flow's connection): the flow in the top 24 bits.
fn tag(flow: u32, seq: u64) -> u64 {
    (u64::from(flow) << 40) | (seq & TAG_SEQ)
}

/// The sequence-number bits of a [`tag`].
const TAG_SEQ: u64 = (1 << 40) - 1;

impl<C: Clock> CrrClient<C> {
    /// A client for `spec` that opens its connections with `dialer`.
    pub fn new(spec: &Spec, env: ClientEnv<C>, dialer: Dialer) -> CrrClient<C> {
        let framing = response_framing(spec);
        let response_len = match framing {
            Framing::Fixed(n) => n,
            _ => MAX_DELIMITED_RESPONSE,
        };
        CrrClient {
            clock: env.clock,
            dialer,
            request: request_payload(spec),
            response: vec![0; response_len],
            framing,
            phase: Phase::Dial,
            started_ns: 0,
            end: IterationEnd::new(env.length),
            timeout_ns: spec.timing.timeout_ns,
            retired: Retired::default(),
            ports: Box::default(),
            histogram: new_histogram(),
            counters: Counters::default(),
            heartbeat: env.heartbeat,
            stamps: env.stamps,
            flow: env.flow,
            send_called: false,
        }
    }

    /// `--stages`: the client's stamp of the current transaction, by its index.
    #[inline]
    fn stamp(&mut self) -> Option<&mut ClientStamps> {
        let i = self.counters.messages;
        self.stamps.as_mut().and_then(|l| l.at(i))
    }

    /// Fails when one transaction has taken longer than --timeout.
    fn check_stall(&self) -> Result<()> {
        let waited = self.clock.now_ns().saturating_sub(self.started_ns);
        if waited >= self.timeout_ns {
            let timeout = std::time::Duration::from_nanos(self.timeout_ns);
            match self.phase {
                Phase::Receiving(off) if off > 0 => bail!(
                    "a connection received {off} bytes in {timeout:?} that do not make a whole response, and the server did not close it; check the framing ({})",
                    self.framing_hint()
                ),
                _ => bail!(
                    "a connection made no progress for {timeout:?} ({:?}); the server is stuck or gone",
                    self.phase
                ),
            }
        }
        Ok(())
    }

    /// What sets the end of a response, for an error that says the framing does not match.
    fn framing_hint(&self) -> &'static str {
        match self.framing {
            Framing::Http1 => {
                "--protocol http1: Content-Length, chunked encoding, or the server's close"
            }
            _ => "--response-size / --response-delimiter / --length-prefix",
        }
    }

    /// `--protocol http1`: the length of a response whose body ends when the server closes
    /// the connection (headers in, neither Content-Length nor chunked encoding: RFC 9112
    /// §6.3), once the server has closed it after `len` bytes; `None` for any other framing.
    fn ends_at_close(&self, len: usize) -> Option<usize> {
        let body_until_close = matches!(
            http1::parse(&self.response[..len], false),
            Err(http1::Http1Error::UntilClose { .. })
        );
        (self.framing == Framing::Http1 && body_until_close).then_some(len)
    }

    /// Records a transaction whose response of `len` bytes has arrived.
    fn complete(&mut self, conn: &Conn, len: usize) {
        let now = self.clock.now_ns();
        record(&mut self.histogram, now - self.started_ns);
        if let Some(e) = self.stamp() {
            e.recv_return = now;
        }
        self.counters.messages += 1;
        self.counters.connections += 1;
        self.counters.bytes_sent += self.request.len() as u64;
        self.counters.bytes_received += len as u64;
        // Unix sockets have no ports: no getsockname per transaction for them.
        if self.dialer.is_tcp() {
            if let Some(port) = local_port(conn) {
                self.ports.insert(port);
            }
        }
        self.heartbeat.beat(self.counters.messages);
        self.phase = Phase::Dial;
    }
}

impl<C: Clock> Flow for CrrClient<C> {
    fn progress(&mut self, conn: &mut Conn) -> Result<Wait> {
        self.retired.release();
        loop {
            match self.phase {
                Phase::Dial => {
                    let now = self.clock.now_ns();
                    if self.end.reached(now, self.counters.messages) {
                        return Ok(Wait::Done);
                    }
                    self.started_ns = now;
                    if let Some(log) = &mut self.stamps {
                        let seq = self.counters.messages + 1;
                        if let Some(e) = log.begin(seq - 1) {
                            e.start = now;
                        }
                        if self.request.len() >= 8 {
                            put_seq(&mut self.request, tag(self.flow, seq));
                        }
                        self.send_called = false;
                    }
                    match self.dialer.dial(conn.is_nonblocking()) {
                        Ok(fresh) => {
                            self.retired.keep(std::mem::replace(conn, fresh));
                            self.phase = Phase::Sending(0);
                            // Back to the engine: the next step closes the finished
                            // connection (the server waits for that close) and sends once the
                            // new one is writable (connected).
                            return Ok(Wait::Write);
                        }
                        Err(e) if e.raw_os_error() == Some(libc::EADDRNOTAVAIL) => {
                            // Out of ephemeral ports: counted, never hidden; try again.
                            self.counters.addr_not_avail += 1;
                            return Ok(Wait::Write);
                        }
                        Err(e) if is_transient(&e) => return Ok(Wait::Write),
                        Err(e) => return Err(e).context("connecting to the crr server"),
                    }
                }
                Phase::Sending(off) => match self.send(conn, off) {
                    Ok(n) if off + n == self.request.len() => {
                        if self.stamps.is_some() {
                            let now = self.clock.now_ns();
                            if let Some(e) = self.stamp() {
                                e.send_return = now;
                            }
                        }
                        self.phase = Phase::Receiving(0);
                    }
                    Ok(n) => self.phase = Phase::Sending(off + n),
                    // Still connecting (non-blocking connect), or the buffer is full.
                    Err(e) if is_transient(&e) || e.raw_os_error() == Some(libc::EALREADY) => {
                        self.check_stall()?;
                        return Ok(Wait::Write);
                    }
                    Err(e) => return Err(e).context("sending a crr request"),
                },
                Phase::Receiving(off) => {
                    if off == self.response.len() {
                        match self.framing.needed(&self.response[..off]) {
                            // A length-prefixed response larger than the buffer: grow it once.
                            Some(n) if n > off => self.response.resize(n, 0),
                            _ => bail!(
                                "a crr response exceeded {off} bytes without being complete; check the framing"
                            ),
                        }
                    }
                    match conn.read(&mut self.response[off..]) {
                        Ok(0) => match self.ends_at_close(off) {
                            Some(m) => self.complete(conn, m),
                            None if off > 0 => bail!(
                                "the server closed the connection after {off} bytes that are not a whole response; check the framing ({})",
                                self.framing_hint()
                            ),
                            None => bail!("the server closed the connection before it answered"),
                        },
                        Ok(n) => match self.framing.complete(&self.response[..off + n]) {
                            Some(m) if m == off + n => self.complete(conn, m),
                            Some(m) => bail!(
                                "{} bytes arrived after a complete crr response: the framing does not match what the server sends",
                                off + n - m
                            ),
                            None => self.phase = Phase::Receiving(off + n),
                        },
                        Err(e) if is_transient(&e) => {
                            self.check_stall()?;
                            return Ok(Wait::Read);
                        }
                        Err(e) => return Err(e).context("receiving a crr response"),
                    }
                }
            }
        }
    }

    fn report(self: Box<Self>) -> FlowReport {
        FlowReport {
            latency: Some(self.histogram),
            counters: self.counters,
            ports: Some(self.ports),
            client_stamps: self.stamps,
            ..FlowReport::default()
        }
    }
}

impl<C: Clock> CrrClient<C> {
    /// Writes the request from `off`; `--stages` stamps the first call of each request (a
    /// write before the connection is up is such a call: the connect's wait ends there).
    #[inline]
    fn send(&mut self, conn: &mut Conn, off: usize) -> std::io::Result<usize> {
        if !self.send_called && self.stamps.is_some() {
            self.send_called = true;
            let now = self.clock.now_ns();
            if let Some(e) = self.stamp() {
                e.send_call = now;
            }
        }
        conn.write(&self.request[off..])
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Serving {
    /// Waiting on the listener.
    Accepting,
    /// Reading the request.
    Receiving(usize),
    /// Writing the response.
    Sending(usize),
    /// Waiting for the client's close.
    Draining,
}

/// The server side of a crr flow: accept, answer, wait for the close, close.
pub struct CrrServer {
    request: Vec<u8>,
    response: Vec<u8>,
    state: Serving,
    listener: Option<Conn>,
    retired: Retired,
    counters: Counters,
    stamps: Option<StampLog<ServerStamps>>,
    current: ServerStamps,
}

impl CrrServer {
    /// A server for `spec`; its slot's connection starts as the listener.
    pub fn new(spec: &Spec) -> CrrServer {
        CrrServer {
            request: vec![0; spec.size],
            response: vec![0xa5; spec.response_size],
            state: Serving::Accepting,
            listener: None,
            retired: Retired::default(),
            counters: Counters::default(),
            stamps: None,
            current: ServerStamps::default(),
        }
    }

    /// The same server, stamping each request into the log of `env` (`--stages`); each request
    /// says its client flow and sequence number.
    pub fn stamped(mut self, env: ServerEnv<MonotonicClock>) -> CrrServer {
        self.stamps = env.stamps;
        self
    }

    /// `--stages`: now, when stamping (one clock read).
    #[inline]
    fn now_if_stamping(&self) -> Option<u64> {
        self.stamps.as_ref().map(|_| MonotonicClock.now_ns())
    }

    /// Puts the listener back into the slot; the served connection closes at the next step,
    /// which comes at once (the caller returns to the engine, waiting on the listener).
    fn finish(&mut self, conn: &mut Conn) -> Wait {
        if let Some(listener) = self.listener.take() {
            self.retired.keep(std::mem::replace(conn, listener));
        }
        self.state = Serving::Accepting;
        Wait::Read
    }
}

impl Flow for CrrServer {
    fn progress(&mut self, conn: &mut Conn) -> Result<Wait> {
        self.retired.release();
        loop {
            match self.state {
                Serving::Accepting => match conn.accept() {
                    Ok(accepted) => {
                        self.listener = Some(std::mem::replace(conn, accepted));
                        self.counters.connections += 1;
                        self.state = Serving::Receiving(0);
                    }
                    Err(e) if is_transient(&e) || e.raw_os_error() == Some(libc::ECONNABORTED) => {
                        return Ok(Wait::Read);
                    }
                    Err(e) => return Err(e).context("accepting a crr connection"),
                },
                Serving::Receiving(off) => match conn.read(&mut self.request[off..]) {
                    Ok(0) => return Ok(self.finish(conn)),
                    Ok(n) => {
                        self.counters.bytes_received += n as u64;
                        self.state = if off + n == self.request.len() {
                            if let Some(now) = self.now_if_stamping() {
                                let tag = if self.request.len() >= 8 {
                                    get_seq(&self.request)
                                } else {
                                    self.counters.messages + 1
                                };
                                self.current = ServerStamps {
                                    seq: tag & TAG_SEQ,
                                    flow: (tag >> 40) as u32,
                                    recv_return: now,
                                    ..ServerStamps::default()
                                };
                            }
                            Serving::Sending(0)
                        } else {
                            Serving::Receiving(off + n)
                        };
                    }
                    Err(e) if is_transient(&e) => return Ok(Wait::Read),
                    Err(e) if is_disconnect(&e) => return Ok(self.finish(conn)),
                    Err(e) => return Err(e).context("receiving a crr request"),
                },
                Serving::Sending(off) => match self.send(conn, off) {
                    Ok(n) => {
                        self.counters.bytes_sent += n as u64;
                        if off + n == self.response.len() {
                            if let (Some(now), Some(log)) =
                                (self.now_if_stamping(), &mut self.stamps)
                            {
                                self.current.send_return = now;
                                log.push(self.current);
                            }
                            self.counters.messages += 1;
                            self.state = Serving::Draining;
                        } else {
                            self.state = Serving::Sending(off + n);
                        }
                    }
                    Err(e) if is_transient(&e) => return Ok(Wait::Write),
                    Err(e) if is_disconnect(&e) => return Ok(self.finish(conn)),
                    Err(e) => return Err(e).context("sending a crr response"),
                },
                Serving::Draining => match conn.read(&mut self.request) {
                    Ok(0) => return Ok(self.finish(conn)),
                    Ok(_) => bail!("a crr client sent more than one request on a connection"),
                    Err(e) if is_transient(&e) => return Ok(Wait::Read),
                    Err(e) if is_disconnect(&e) => return Ok(self.finish(conn)),
                    Err(e) => return Err(e).context("waiting for the crr client's close"),
                },
            }
        }
    }

    fn report(self: Box<Self>) -> FlowReport {
        FlowReport {
            counters: self.counters,
            server_stamps: self.stamps,
            ..FlowReport::default()
        }
    }
}

impl CrrServer {
    /// Writes the response from `off`; `--stages` stamps the first call.
    #[inline]
    fn send(&mut self, conn: &mut Conn, off: usize) -> std::io::Result<usize> {
        if off == 0 && self.current.send_call == 0 {
            if let Some(now) = self.now_if_stamping() {
                self.current.send_call = now;
            }
        }
        conn.write(&self.response[off..])
    }
}
