//! `rr`: closed-loop request/response. The client sends `--size` bytes, the server answers with
//! `--response-size` bytes, and the client records the round trip. One request is in flight per
//! flow, so the latency includes every wake-up on the path.
//!
//! Datagram transports carry a sequence number in the first 8 bytes: a request whose response
//! does not come within the loss timeout is counted lost (never hangs the loop), and a response
//! arriving after that is counted late and discarded.
//!
//! A case with a custom protocol (`client --connect` with its framing) runs the
//! [`ExternalClient`]; one with a user's server handler runs the [`HandlerServer`].

use anyhow::{Context, Result, bail};

use super::def::WorkloadDef;
use super::env::{ClientEnv, Heartbeat, IterationEnd, Phase, ServerEnv, get_seq, put_seq};
use super::external::ExternalClient;
use super::handler::HandlerServer;
use crate::engine::{Flow, FlowReport, Wait};
use crate::metrics::clock::{Clock, MonotonicClock};
use crate::metrics::counters::Counters;
use crate::metrics::histogram::{LatencyHistogram, new_histogram, record};
use crate::metrics::stamps::{ClientStamps, ServerStamps, StampLog};
use crate::spec::{Spec, Workload};
use crate::transport::Conn;
use crate::transport::dial::Dialer;
use crate::transport::wait::{is_disconnect, is_transient};

/// `rr` in the workload table.
pub struct RrDef;

impl WorkloadDef for RrDef {
    fn kind(&self) -> Workload {
        Workload::Rr
    }

    fn takes_server_delay(&self) -> bool {
        true
    }

    fn counts_lost_requests(&self) -> bool {
        true
    }

    fn takes_handler(&self) -> bool {
        true
    }

    fn takes_framing(&self) -> bool {
        true
    }

    fn client(
        &self,
        spec: &Spec,
        env: ClientEnv<MonotonicClock>,
        _dialer: Option<Dialer>,
    ) -> Result<Box<dyn Flow>> {
        Ok(
            if spec.framing.is_custom()
                || spec.server_handler.is_some()
                || spec.request_generator.is_some()
            {
                Box::new(ExternalClient::new(spec, env))
            } else {
                Box::new(RrClient::new(spec, env))
            },
        )
    }

    fn server(&self, spec: &Spec, env: ServerEnv<MonotonicClock>) -> Box<dyn Flow> {
        match &spec.server_handler {
            Some(h) => Box::new(HandlerServer::new(spec, h.make()).stamped(env)),
            None => Box::new(RrServer::new(spec, env.clock).stamped(env.flow, env.stamps)),
        }
    }
}

/// The client side of an `rr` flow.
pub struct RrClient<C: Clock> {
    clock: C,
    request: Vec<u8>,
    response: Vec<u8>,
    datagram: bool,
    phase: Phase,
    seq: u64,
    sent_at_ns: u64,
    end: IterationEnd,
    loss_timeout_ns: u64,
    timeout_ns: u64,
    histogram: LatencyHistogram,
    counters: Counters,
    heartbeat: Heartbeat,
    stamps: Option<StampLog<ClientStamps>>,
}

impl<C: Clock> RrClient<C> {
    /// A client for `spec`.
    pub fn new(spec: &Spec, env: ClientEnv<C>) -> RrClient<C> {
        RrClient {
            clock: env.clock,
            heartbeat: env.heartbeat,
            request: vec![0x5a; spec.size],
            response: vec![0; spec.response_size],
            datagram: spec.transport.is_datagram(),
            phase: Phase::Idle,
            seq: 0,
            sent_at_ns: 0,
            end: IterationEnd::new(env.length),
            loss_timeout_ns: spec.timing.loss_timeout_ns,
            timeout_ns: spec.timing.timeout_ns,
            histogram: new_histogram(),
            counters: Counters::default(),
            stamps: env.stamps,
        }
    }

    /// `--stages`: the request's send call (and its start) at `now`.
    #[inline]
    fn stamp_start(&mut self, now: u64) {
        if let Some(e) = self.stamps.as_mut().and_then(|l| l.begin(self.seq - 1)) {
            e.start = now;
            e.send_call = now;
        }
    }

    /// `--stages`: the request's send returned (one clock read).
    #[inline]
    fn stamp_sent(&mut self) {
        if let Some(log) = &mut self.stamps {
            let now = self.clock.now_ns();
            if let Some(e) = log.at(self.seq - 1) {
                e.send_return = now;
            }
        }
    }

    /// Called when the connection would block: declares a datagram lost, or the peer stuck.
    fn on_stall(&mut self) -> Result<bool> {
        let waited = self.clock.now_ns().saturating_sub(self.sent_at_ns);
        if self.datagram
            && matches!(self.phase, Phase::Receiving(_))
            && waited >= self.loss_timeout_ns
        {
            self.counters.lost += 1;
            self.heartbeat
                .beat(self.counters.messages + self.counters.lost);
            self.phase = Phase::Idle;
            return Ok(true);
        }
        if waited >= self.timeout_ns {
            bail!(
                "no response from the server within {:?} (request {}); the server is stuck or gone \
                 (raise --timeout if it is just slow)",
                std::time::Duration::from_nanos(self.timeout_ns),
                self.seq
            );
        }
        Ok(false)
    }

    fn complete(&mut self) {
        let now = self.clock.now_ns();
        record(&mut self.histogram, now - self.sent_at_ns);
        if let Some(e) = self.stamps.as_mut().and_then(|l| l.at(self.seq - 1)) {
            e.recv_return = now;
        }
        self.counters.messages += 1;
        self.counters.bytes_sent += self.request.len() as u64;
        self.counters.bytes_received += self.response.len() as u64;
        self.heartbeat
            .beat(self.counters.messages + self.counters.lost);
        self.phase = Phase::Idle;
    }
}

impl<C: Clock> Flow for RrClient<C> {
    fn progress(&mut self, conn: &mut Conn) -> Result<Wait> {
        loop {
            match self.phase {
                Phase::Idle => {
                    let now = self.clock.now_ns();
                    if self
                        .end
                        .reached(now, self.counters.messages + self.counters.lost)
                    {
                        return Ok(Wait::Done);
                    }
                    self.seq += 1;
                    if self.datagram {
                        put_seq(&mut self.request, self.seq);
                    }
                    self.sent_at_ns = now;
                    self.stamp_start(now);
                    self.phase = Phase::Sending(0);
                }
                Phase::Sending(off) => match conn.write(&self.request[off..]) {
                    Ok(n) if off + n == self.request.len() => {
                        self.stamp_sent();
                        self.phase = Phase::Receiving(0);
                    }
                    Ok(n) => self.phase = Phase::Sending(off + n),
                    Err(e) if is_transient(&e) => {
                        if !self.on_stall()? {
                            return Ok(Wait::Write);
                        }
                    }
                    Err(e) => return Err(e).context("sending a request"),
                },
                Phase::Receiving(off) => match conn.read(&mut self.response[off..]) {
                    Ok(0) => {
                        bail!("the server closed the connection in the middle of the iteration")
                    }
                    Ok(n) if self.datagram => {
                        if n != self.response.len() {
                            bail!(
                                "expected a {}-byte response datagram, got {n} bytes",
                                self.response.len()
                            );
                        }
                        let got = get_seq(&self.response);
                        if got == self.seq {
                            self.complete();
                        } else if got < self.seq {
                            self.counters.late += 1;
                        } else {
                            bail!(
                                "response to request {got} arrived while waiting for {}",
                                self.seq
                            );
                        }
                    }
                    Ok(n) if off + n == self.response.len() => self.complete(),
                    Ok(n) => self.phase = Phase::Receiving(off + n),
                    Err(e) if is_transient(&e) => {
                        if !self.on_stall()? {
                            return Ok(Wait::Read);
                        }
                    }
                    Err(e) => return Err(e).context("receiving a response"),
                },
            }
        }
    }

    fn report(self: Box<Self>) -> FlowReport {
        FlowReport {
            latency: Some(self.histogram),
            counters: self.counters,
            client_stamps: self.stamps,
            ..FlowReport::default()
        }
    }
}

/// The server side of an `rr` flow: answers each request, after `--server-delay` if set.
pub struct RrServer<C: Clock> {
    clock: C,
    request: Vec<u8>,
    response: Vec<u8>,
    datagram: bool,
    phase: Phase,
    delay_ns: u64,
    drop_every: u64,
    expected_seq: u64,
    last_seq: u64,
    counters: Counters,
    stamps: Option<StampLog<ServerStamps>>,
    flow: u32,
    current: ServerStamps,
}

/// The environment variable that adds a service time to every `rr` server's answers without
/// changing the case id: a change of the program under test as the gate sees it (two builds, or
/// `ab` with the same command twice, one with the variable), for checking that the gate catches
/// it. Recorded in the case's notes.
pub const INJECT_DELAY_ENV: &str = "LOOPBENCH_INJECT_SERVER_DELAY";

/// The delay [`INJECT_DELAY_ENV`] asks for, in nanoseconds (0 when unset); the text when it is
/// not a duration (`2us`, `2400ns`, `2400`).
pub fn injected_delay() -> Result<u64, String> {
    static DELAY: std::sync::OnceLock<Result<u64, String>> = std::sync::OnceLock::new();
    DELAY
        .get_or_init(|| match std::env::var(INJECT_DELAY_ENV) {
            Err(_) => Ok(0),
            Ok(text) => text
                .trim()
                .parse::<u64>()
                .or_else(|_| crate::spec::parse_duration(&text).map(|d| d.as_nanos() as u64))
                .map_err(|_| text),
        })
        .clone()
}

impl<C: Clock> RrServer<C> {
    /// A server for `spec`.
    pub fn new(spec: &Spec, clock: C) -> RrServer<C> {
        RrServer {
            clock,
            request: vec![0; spec.size],
            response: vec![0xa5; spec.response_size],
            datagram: spec.transport.is_datagram(),
            phase: Phase::Receiving(0),
            delay_ns: spec.server_delay_ns + injected_delay().ok().unwrap_or(0),
            drop_every: spec.server_drop_every,
            expected_seq: 1,
            last_seq: 0,
            counters: Counters::default(),
            stamps: None,
            flow: 0,
            current: ServerStamps::default(),
        }
    }

    /// The same server, stamping each request into `stamps` (`--stages`) as client flow
    /// `flow`'s.
    pub fn stamped(mut self, flow: u32, stamps: Option<StampLog<ServerStamps>>) -> RrServer<C> {
        self.flow = flow;
        self.stamps = stamps;
        self
    }

    /// `--stages`: the request in the buffer was received now.
    #[inline]
    fn stamp_received(&mut self) {
        if self.stamps.is_some() {
            self.current = ServerStamps {
                seq: if self.datagram {
                    get_seq(&self.request)
                } else {
                    self.counters.messages + 1
                },
                flow: self.flow,
                recv_return: self.clock.now_ns(),
                ..ServerStamps::default()
            };
        }
    }

    /// `--stages`: the response's send is called now.
    #[inline]
    fn stamp_send_call(&mut self) {
        if self.stamps.is_some() {
            self.current.send_call = self.clock.now_ns();
        }
    }

    /// `--stages`: the request is done with (answered, when its send returned now).
    #[inline]
    fn stamp_done(&mut self, answered: bool) {
        if let Some(log) = &mut self.stamps {
            if answered {
                self.current.send_return = self.clock.now_ns();
            }
            log.push(self.current);
        }
    }

    /// Accounts for a datagram's sequence number; false when the request must not be answered.
    fn accept_datagram(&mut self) -> bool {
        let seq = get_seq(&self.request);
        if seq == self.last_seq {
            self.counters.duplicated += 1;
        } else if seq < self.expected_seq {
            self.counters.reordered += 1;
        } else {
            self.counters.lost += seq - self.expected_seq;
            self.expected_seq = seq + 1;
        }
        self.last_seq = seq;
        if self.drop_every != 0 && seq % self.drop_every == 0 {
            self.counters.dropped_on_purpose += 1;
            return false;
        }
        put_seq(&mut self.response, seq);
        true
    }

    /// The simulated service time: a busy wait, so it costs CPU like real work would.
    fn serve(&self) {
        if self.delay_ns > 0 {
            let until = self.clock.now_ns() + self.delay_ns;
            while self.clock.now_ns() < until {
                std::hint::spin_loop();
            }
        }
    }
}

impl<C: Clock> Flow for RrServer<C> {
    fn progress(&mut self, conn: &mut Conn) -> Result<Wait> {
        loop {
            match self.phase {
                Phase::Idle | Phase::Receiving(_) => {
                    let off = if let Phase::Receiving(off) = self.phase {
                        off
                    } else {
                        0
                    };
                    match conn.read(&mut self.request[off..]) {
                        Ok(0) => return Ok(Wait::Done),
                        Ok(n) => {
                            self.counters.bytes_received += n as u64;
                            if self.datagram {
                                if n != self.request.len() {
                                    bail!(
                                        "expected a {}-byte request datagram, got {n} bytes",
                                        self.request.len()
                                    );
                                }
                                self.stamp_received();
                                if !self.accept_datagram() {
                                    self.stamp_done(false);
                                    continue;
                                }
                            } else if off + n < self.request.len() {
                                self.phase = Phase::Receiving(off + n);
                                continue;
                            } else {
                                self.stamp_received();
                            }
                            self.serve();
                            self.stamp_send_call();
                            self.phase = Phase::Sending(0);
                        }
                        Err(e) if is_transient(&e) => return Ok(Wait::Read),
                        Err(e) if is_disconnect(&e) => return Ok(Wait::Done),
                        Err(e) => return Err(e).context("receiving a request"),
                    }
                }
                Phase::Sending(off) => match conn.write(&self.response[off..]) {
                    Ok(n) => {
                        self.counters.bytes_sent += n as u64;
                        if off + n == self.response.len() {
                            self.stamp_done(true);
                            self.counters.messages += 1;
                            self.phase = Phase::Receiving(0);
                        } else {
                            self.phase = Phase::Sending(off + n);
                        }
                    }
                    Err(e) if is_transient(&e) => return Ok(Wait::Write),
                    Err(e) if is_disconnect(&e) => return Ok(Wait::Done),
                    Err(e) => return Err(e).context("sending a response"),
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

#[cfg(test)]
mod tests;
