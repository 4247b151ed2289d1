//! The client of a custom protocol: an existing local service (`loopbench client --connect`) or
//! a user handler. Closed-loop request/response on one connection per flow, with the request
//! payload given by the user and the response framed by a fixed `--response-size`, a
//! `--response-delimiter` (e.g. `\r\n\r\n` for HTTP headers of a bodiless response), or a length
//! prefix (`--length-prefix u32be`). Lengths announced inside an HTTP response (Content-Length,
//! chunked encoding) are not parsed.

use anyhow::{Context, Result, bail};

use super::env::{ClientEnv, Heartbeat, IterationEnd, Phase};
use super::handler::{request_payload, response_framing};
use crate::engine::{Flow, FlowReport, Wait};
use crate::metrics::clock::Clock;
use crate::metrics::counters::Counters;
use crate::metrics::histogram::{LatencyHistogram, new_histogram, record};
use crate::metrics::stamps::{ClientStamps, StampLog};
use crate::spec::Spec;
use crate::spec::framing::Framing;
use crate::transport::Conn;
use crate::transport::wait::is_transient;

/// Largest delimited response kept (the buffer is sized once, up front).
pub const MAX_DELIMITED_RESPONSE: usize = 1 << 20;

/// The client of one flow to an external service.
pub struct ExternalClient<C: Clock> {
    clock: C,
    request: Vec<u8>,
    response: Vec<u8>,
    framing: Framing,
    phase: Phase,
    sent_at_ns: u64,
    end: IterationEnd,
    timeout_ns: u64,
    histogram: LatencyHistogram,
    counters: Counters,
    heartbeat: Heartbeat,
    stamps: Option<StampLog<ClientStamps>>,
}

impl<C: Clock> ExternalClient<C> {
    /// A client for `spec` (its `framing.request` and framing).
    pub fn new(spec: &Spec, env: ClientEnv<C>) -> ExternalClient<C> {
        let framing = response_framing(spec);
        let response_len = match framing {
            Framing::Fixed(n) => n,
            _ => MAX_DELIMITED_RESPONSE,
        };
        ExternalClient {
            clock: env.clock,
            request: request_payload(spec),
            response: vec![0; response_len],
            framing,
            phase: Phase::Idle,
            sent_at_ns: 0,
            end: IterationEnd::new(env.length),
            timeout_ns: spec.timing.timeout_ns,
            histogram: new_histogram(),
            counters: Counters::default(),
            heartbeat: env.heartbeat,
            stamps: env.stamps,
        }
    }

    fn check_stall(&self) -> Result<()> {
        if self.clock.now_ns().saturating_sub(self.sent_at_ns) >= self.timeout_ns {
            bail!(
                "the service sent no complete response within {:?} (--timeout); check --response-size / --response-delimiter",
                std::time::Duration::from_nanos(self.timeout_ns)
            );
        }
        Ok(())
    }
}

impl<C: Clock> Flow for ExternalClient<C> {
    fn progress(&mut self, conn: &mut Conn) -> Result<Wait> {
        loop {
            match self.phase {
                Phase::Idle => {
                    let now = self.clock.now_ns();
                    if self.end.reached(now, self.counters.messages) {
                        return Ok(Wait::Done);
                    }
                    self.sent_at_ns = now;
                    let seq = self.counters.messages;
                    if let Some(e) = self.stamps.as_mut().and_then(|l| l.begin(seq)) {
                        e.start = now;
                        e.send_call = now;
                    }
                    self.phase = Phase::Sending(0);
                }
                Phase::Sending(off) => match conn.write(&self.request[off..]) {
                    Ok(n) if off + n == self.request.len() => {
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
                        Ok(0) => bail!("the service closed the connection"),
                        Ok(n) => {
                            let len = off + n;
                            if let Some(m) = self.framing.complete(&self.response[..len]) {
                                if m != len {
                                    bail!(
                                        "{} bytes arrived after a complete response: the framing does not match what the server sends",
                                        len - m
                                    );
                                }
                                let now = self.clock.now_ns();
                                record(&mut self.histogram, now - self.sent_at_ns);
                                let seq = self.counters.messages;
                                if let Some(e) = self.stamps.as_mut().and_then(|l| l.at(seq)) {
                                    e.recv_return = now;
                                }
                                self.counters.messages += 1;
                                self.counters.bytes_sent += self.request.len() as u64;
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
                        Err(e) => return Err(e).context("receiving the response"),
                    }
                }
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
