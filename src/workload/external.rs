//! The client of a custom protocol: an existing local service (`loopbench client --connect`) or
//! a user handler. Closed-loop request/response on one kept-alive connection per flow. The
//! request is the user's (one, a weighted mix, or a generator's: see [`RequestMix`]); a
//! response ends after a fixed `--response-size`, at a `--response-delimiter`, after a length
//! prefix's length, or as its HTTP/1 headers say (`--protocol http1`: Content-Length or
//! chunked; status codes counted). Each request kind gets a histogram beside the total, and the
//! connection's TCP_INFO is read at the start and end of the iteration and every
//! [`TCP_SAMPLE_EVERY`] round trips.

use anyhow::{Context, Result, anyhow, bail};

use super::env::{ClientEnv, Heartbeat, IterationEnd, Phase};
use super::handler::response_framing;
use super::mix::{RequestMix, kind_names};
use crate::engine::{Flow, FlowReport, Wait};
use crate::metrics::clock::Clock;
use crate::metrics::counters::Counters;
use crate::metrics::histogram::{LatencyHistogram, new_histogram, record};
use crate::metrics::service::ServiceMeasure;
use crate::metrics::stamps::{ClientStamps, StampLog};
use crate::metrics::tcp_info::TcpTrack;
use crate::spec::Spec;
use crate::spec::framing::Framing;
use crate::spec::http1;
use crate::transport::Conn;
use crate::transport::wait::{is_disconnect, is_transient};

/// Largest delimited response kept (the buffer is sized once, up front).
pub const MAX_DELIMITED_RESPONSE: usize = 1 << 20;

/// Round trips between two TCP_INFO readings during an iteration: one getsockopt per 1024
/// round trips costs well under 0.1 % of a loopback round trip's time.
pub const TCP_SAMPLE_EVERY: u64 = 1024;

/// The client of one flow to an external service.
pub struct ExternalClient<C: Clock> {
    clock: C,
    mix: RequestMix,
    kind: usize,
    response: Vec<u8>,
    framing: Framing,
    /// `--protocol http1`: the last complete response, for the hint when the service closes.
    last: Option<http1::Response>,
    phase: Phase,
    sent_at_ns: u64,
    end: IterationEnd,
    timeout_ns: u64,
    histogram: LatencyHistogram,
    service: ServiceMeasure,
    tcp: Option<TcpTrack>,
    counters: Counters,
    heartbeat: Heartbeat,
    stamps: Option<StampLog<ClientStamps>>,
}

impl<C: Clock> ExternalClient<C> {
    /// A client for `spec` (its requests and framing).
    pub fn new(spec: &Spec, env: ClientEnv<C>) -> ExternalClient<C> {
        let framing = response_framing(spec);
        let response_len = match framing {
            Framing::Fixed(n) => n,
            _ => MAX_DELIMITED_RESPONSE,
        };
        ExternalClient {
            clock: env.clock,
            mix: RequestMix::new(spec),
            kind: 0,
            response: vec![0; response_len],
            framing,
            last: None,
            phase: Phase::Idle,
            sent_at_ns: 0,
            end: IterationEnd::new(env.length),
            timeout_ns: spec.timing.timeout_ns,
            histogram: new_histogram(),
            service: ServiceMeasure::new(kind_names(spec).len()),
            tcp: Some(TcpTrack::default()),
            counters: Counters::default(),
            heartbeat: env.heartbeat,
            stamps: env.stamps,
        }
    }

    fn check_stall(&self) -> Result<()> {
        if self.clock.now_ns().saturating_sub(self.sent_at_ns) >= self.timeout_ns {
            let check = if self.http1() {
                "check that the request is a whole HTTP request (a Host header, a blank line after the headers)"
            } else {
                "check --response-size / --response-delimiter / --length-prefix (.response_size(..), .response_delimiter(..), .length_prefix(..))"
            };
            bail!(
                "the service sent no complete response within {:?} (--timeout, .timeout(..)); {check}",
                std::time::Duration::from_nanos(self.timeout_ns)
            );
        }
        Ok(())
    }

    /// `--protocol http1`: responses are framed and counted by their HTTP/1 headers.
    fn http1(&self) -> bool {
        self.framing == Framing::Http1
    }

    /// Why the service closed the connection, as far as its last response tells.
    fn closed(&self) -> anyhow::Error {
        let crr = "or measure connect+request+close per round trip with -w crr (.workload(Workload::Crr))";
        match (self.http1(), self.last) {
            (true, Some(r)) if r.closes => anyhow!(
                "the service closed the connection after a response that said it would ({}): this client keeps one connection per flow alive; let the service keep connections alive (HTTP/1.1 without 'Connection: close'; python3 -m http.server --protocol HTTP/1.1) {crr}",
                if r.minor_version == 0 {
                    "HTTP/1.0 without keep-alive"
                } else {
                    "Connection: close"
                }
            ),
            (true, Some(_)) => anyhow!(
                "the service closed a kept-alive connection after {} responses without saying it would (no 'Connection: close'): it may limit requests per connection or have failed; see its log",
                self.counters.messages
            ),
            (true, None) => anyhow!(
                "the service closed the connection before its first response: check the request (a whole HTTP request, with Host and a blank line after the headers)"
            ),
            (false, _) => anyhow!(
                "the service closed the connection after {} responses: a service that answers one request per connection is measured with -w crr; otherwise check the request and how a response ends",
                self.counters.messages
            ),
        }
    }

    /// Reads the connection's TCP_INFO (gives up for good on a socket that has none).
    fn sample_tcp(&mut self, conn: &Conn) {
        if let (Some(track), Some(fd)) = (&mut self.tcp, conn.read_fd()) {
            if !track.sample(fd) {
                self.tcp = None;
            }
        }
    }

    /// The length of the complete response at the start of `buf`, if it has all arrived;
    /// counts its HTTP status.
    fn complete(&mut self, len: usize) -> Result<Option<usize>> {
        let buf = &self.response[..len];
        if !self.http1() {
            return Ok(self.framing.complete(buf));
        }
        Ok(http1::parse(buf, self.mix.is_head())?.map(|r| {
            self.service.status.count(r.status);
            self.last = Some(r);
            r.len
        }))
    }
}

impl<C: Clock> Flow for ExternalClient<C> {
    fn progress(&mut self, conn: &mut Conn) -> Result<Wait> {
        loop {
            match self.phase {
                Phase::Idle => {
                    let now = self.clock.now_ns();
                    let seq = self.counters.messages;
                    if seq % TCP_SAMPLE_EVERY == 0 {
                        self.sample_tcp(conn);
                    }
                    if self.end.reached(now, seq) {
                        self.sample_tcp(conn);
                        return Ok(Wait::Done);
                    }
                    self.kind = self.mix.next(seq)?;
                    self.sent_at_ns = now;
                    if let Some(e) = self.stamps.as_mut().and_then(|l| l.begin(seq)) {
                        e.start = now;
                        e.send_call = now;
                    }
                    self.phase = Phase::Sending(0);
                }
                Phase::Sending(off) => match conn.write(&self.mix.bytes()[off..]) {
                    Ok(n) if off + n == self.mix.bytes().len() => {
                        if let Some(log) = &mut self.stamps {
                            let now = self.clock.now_ns();
                            if let Some(e) = log.at(self.counters.messages) {
                                e.send_return = now;
                            }
                        }
                        self.phase = Phase::Receiving(0);
                    }
                    Ok(n) => self.phase = Phase::Sending(off + n),
                    Err(e) if is_transient(&e) => {
                        self.check_stall()?;
                        return Ok(Wait::Write);
                    }
                    Err(e) if is_disconnect(&e) => return Err(self.closed()),
                    Err(e) => return Err(e).context("sending the request"),
                },
                Phase::Receiving(off) => {
                    if off == self.response.len() {
                        match self.framing.needed(&self.response[..off]) {
                            // A length-prefixed response larger than the buffer: grow it once.
                            Some(n) if n > off => self.response.resize(n, 0),
                            _ => bail!(
                                "a response exceeded {} bytes without being complete; check the framing",
                                self.response.len()
                            ),
                        }
                    }
                    match conn.read(&mut self.response[off..]) {
                        Ok(0) => return Err(self.closed()),
                        Ok(n) => {
                            let len = off + n;
                            if let Some(m) = self.complete(len)? {
                                if m != len {
                                    bail!(
                                        "{} bytes arrived after a complete response: the framing does not match what the server sends",
                                        len - m
                                    );
                                }
                                let now = self.clock.now_ns();
                                let latency = now - self.sent_at_ns;
                                record(&mut self.histogram, latency);
                                if let Some(h) = self.service.kinds.get_mut(self.kind) {
                                    record(h, latency);
                                }
                                let seq = self.counters.messages;
                                if let Some(e) = self.stamps.as_mut().and_then(|l| l.at(seq)) {
                                    e.recv_return = now;
                                }
                                self.counters.messages += 1;
                                self.counters.bytes_sent += self.mix.bytes().len() as u64;
                                self.counters.bytes_received += len as u64;
                                self.heartbeat.beat(self.counters.messages);
                                self.phase = Phase::Idle;
                            } else {
                                self.phase = Phase::Receiving(len);
                            }
                        }
                        Err(e) if is_transient(&e) => {
                            self.check_stall()?;
                            return Ok(Wait::Read);
                        }
                        Err(e) if is_disconnect(&e) => return Err(self.closed()),
                        Err(e) => return Err(e).context("receiving the response"),
                    }
                }
            }
        }
    }

    fn report(self: Box<Self>) -> FlowReport {
        let mut service = self.service;
        service.tcp.extend(self.tcp.filter(|t| t.samples > 0));
        service.messages = self.counters.messages;
        service.response_bytes = self.counters.bytes_received;
        FlowReport {
            latency: Some(self.histogram),
            counters: self.counters,
            client_stamps: self.stamps,
            service: Some(Box::new(service)),
            ..FlowReport::default()
        }
    }
}
