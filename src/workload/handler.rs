//! The server of a case with a user [`Handler`]: reads each request
//! (framed by the case's length prefix, or `--size` bytes, or one datagram), hands it to the
//! handler on the server's pinned thread, and writes back whatever the handler answered. The
//! client is the custom-protocol client ([`ExternalClient`](super::external::ExternalClient)) with
//! the same framing.

use anyhow::{Context, Result, bail};

use super::env::ServerEnv;
use crate::engine::{Flow, FlowReport, Wait};
use crate::metrics::clock::{MonotonicClock, monotonic_ns};
use crate::metrics::counters::Counters;
use crate::metrics::stamps::{ServerStamps, StampLog};
use crate::spec::Spec;
use crate::spec::framing::{Framing, Protocol};
use crate::spec::handler::Handler;
use crate::transport::Conn;
use crate::transport::wait::{is_disconnect, is_transient};

/// Requests up to this size fit the initial buffer; larger ones (length-prefixed) grow it once.
const INITIAL_BUFFER: usize = 64 * 1024;

/// How a custom-protocol case's responses end, at the client.
pub fn response_framing(spec: &Spec) -> Framing {
    if spec.framing.protocol == Protocol::Http1 {
        return Framing::Http1;
    }
    match (
        &spec.framing.length_prefix,
        &spec.framing.response_delimiter,
    ) {
        (Some(p), _) => Framing::LengthPrefix(*p),
        (None, Some(d)) => Framing::Delimiter(d.clone()),
        (None, None) => Framing::Fixed(spec.response_size),
    }
}

/// How a handler case's requests end, at the server.
pub fn request_framing(spec: &Spec) -> Framing {
    match &spec.framing.length_prefix {
        Some(p) => Framing::LengthPrefix(*p),
        None => Framing::Fixed(spec.framing.request.as_ref().map_or(spec.size, Vec::len)),
    }
}

/// The request of `--protocol http1` when none is given.
pub const DEFAULT_HTTP_REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

/// The request a custom-protocol client sends: the given payload, or `--size` bytes (a frame of
/// `--size` bytes in all when the case has a length prefix).
pub fn request_payload(spec: &Spec) -> Vec<u8> {
    if spec.framing.request.is_none() && spec.framing.protocol == Protocol::Http1 {
        return DEFAULT_HTTP_REQUEST.to_vec();
    }
    match (&spec.framing.request, &spec.framing.length_prefix) {
        (Some(r), _) => r.clone(),
        (None, Some(p)) => p.frame(&vec![0x5a; spec.size.saturating_sub(usize::from(p.width))]),
        (None, None) => vec![0x5a; spec.size],
    }
}

/// The server side of a flow answered by a user handler.
pub struct HandlerServer {
    handler: Box<dyn Handler>,
    framing: Framing,
    datagram: bool,
    request: Vec<u8>,
    filled: usize,
    response: Vec<u8>,
    /// Bytes of `response` written so far, while a response is being sent.
    sending: Option<usize>,
    /// Length of the request being answered (consumed once the response is out).
    answered: usize,
    fixed_response: Option<usize>,
    counters: Counters,
    stamps: Option<StampLog<ServerStamps>>,
    flow: u32,
    current: ServerStamps,
    /// `--stages`: when the last read returned.
    read_ns: u64,
}

impl HandlerServer {
    /// A server for `spec` answering with `handler`.
    pub fn new(spec: &Spec, handler: Box<dyn Handler>) -> HandlerServer {
        let framing = request_framing(spec);
        let fixed_response = match response_framing(spec) {
            Framing::Fixed(n) => Some(n),
            _ => None,
        };
        HandlerServer {
            handler,
            datagram: spec.transport.is_datagram(),
            request: vec![0; INITIAL_BUFFER.max(spec.size)],
            filled: 0,
            response: Vec::with_capacity(INITIAL_BUFFER.max(spec.response_size)),
            sending: None,
            answered: 0,
            fixed_response,
            framing,
            counters: Counters::default(),
            stamps: None,
            flow: 0,
            current: ServerStamps::default(),
            read_ns: 0,
        }
    }

    /// The same server, stamping each request (`--stages`) into the log of `env`, the
    /// handler's own time as a stage of its own.
    pub fn stamped(mut self, env: ServerEnv<MonotonicClock>) -> HandlerServer {
        self.flow = env.flow;
        self.stamps = env.stamps;
        self
    }

    /// `--stages`: now, when stamping (one clock read), else 0.
    #[inline]
    fn now_if_stamping(&self) -> u64 {
        if self.stamps.is_some() {
            monotonic_ns()
        } else {
            0
        }
    }

    /// The length of the complete request at the start of the buffer, if there is one.
    fn complete_request(&self) -> Option<usize> {
        if self.datagram {
            (self.filled > 0).then_some(self.filled)
        } else {
            self.framing.complete(&self.request[..self.filled])
        }
    }

    /// Calls the handler on the request of `len` bytes and starts sending its answer.
    fn answer(&mut self, len: usize) -> Result<()> {
        self.response.clear();
        let started = self.now_if_stamping();
        self.handler
            .handle(&self.request[..len], &mut self.response);
        if self.stamps.is_some() {
            let ended = monotonic_ns();
            self.current = ServerStamps {
                seq: self.counters.messages + 1,
                flow: self.flow,
                handler_ns: u32::try_from(ended - started).unwrap_or(u32::MAX),
                recv_return: self.read_ns,
                ..ServerStamps::default()
            };
        }
        if let Some(n) = self.fixed_response {
            if self.response.len() != n {
                bail!(
                    "the handler answered {} bytes, but the case frames responses as --response-size {n} bytes; \
                     set response_size to what the handler returns, or give the case a length prefix",
                    self.response.len()
                );
            }
        }
        self.answered = len;
        self.sending = Some(0);
        Ok(())
    }

    /// Drops the answered request from the buffer, keeping any pipelined bytes after it.
    fn consume(&mut self) {
        self.request.copy_within(self.answered..self.filled, 0);
        self.filled -= self.answered;
        self.answered = 0;
        self.counters.messages += 1;
    }
}

impl Flow for HandlerServer {
    fn progress(&mut self, conn: &mut Conn) -> Result<Wait> {
        loop {
            if let Some(off) = self.sending {
                if off == self.response.len() {
                    self.sending = None;
                    self.consume();
                    continue;
                }
                if off == 0 && self.stamps.is_some() {
                    self.current.send_call = monotonic_ns();
                }
                match conn.write(&self.response[off..]) {
                    Ok(n) => {
                        self.counters.bytes_sent += n as u64;
                        self.sending = Some(off + n);
                        if off + n == self.response.len() {
                            if let Some(log) = &mut self.stamps {
                                self.current.send_return = monotonic_ns();
                                log.push(self.current);
                            }
                        }
                    }
                    Err(e) if is_transient(&e) => return Ok(Wait::Write),
                    Err(e) if is_disconnect(&e) => return Ok(Wait::Done),
                    Err(e) => return Err(e).context("sending the handler's response"),
                }
                continue;
            }
            if let Some(len) = self.complete_request() {
                self.answer(len)?;
                continue;
            }
            if self.filled == self.request.len() {
                match self.framing.needed(&self.request[..self.filled]) {
                    // A length-prefixed request larger than the buffer: grow it once.
                    Some(n) if n > self.filled => self.request.resize(n, 0),
                    _ => bail!(
                        "a request exceeded {} bytes without being complete; check the case's framing",
                        self.request.len()
                    ),
                }
            }
            match conn.read(&mut self.request[self.filled..]) {
                Ok(0) => return Ok(Wait::Done),
                Ok(n) => {
                    self.read_ns = self.now_if_stamping();
                    self.filled += n;
                    self.counters.bytes_received += n as u64;
                }
                Err(e) if is_transient(&e) => return Ok(Wait::Read),
                Err(e) if is_disconnect(&e) => return Ok(Wait::Done),
                Err(e) => return Err(e).context("receiving a request for the handler"),
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
mod tests {
    use super::*;
    use crate::spec::Transport;
    use crate::spec::framing::LengthPrefix;
    use crate::transport::connector;

    #[test]
    fn pipelined_length_prefixed_requests_are_answered_one_by_one() {
        let mut spec = Spec::new(Transport::UnixStream);
        spec.framing.length_prefix = Some(LengthPrefix::U32_BE);
        let (mut client, mut server_conn) = connector(&spec).unwrap().pair().unwrap();
        let upper = |req: &[u8], resp: &mut Vec<u8>| {
            resp.extend_from_slice(&req[..4]);
            resp.extend(req[4..].iter().map(u8::to_ascii_uppercase));
        };
        let mut server = HandlerServer::new(&spec, Box::new(upper));
        let t = std::thread::spawn(move || {
            while server.progress(&mut server_conn).unwrap() != Wait::Done {}
            Box::new(server).report()
        });
        let mut out = LengthPrefix::U32_BE.frame(b"abc");
        out.extend(LengthPrefix::U32_BE.frame(&vec![b'z'; 100_000]));
        // Both requests go out before any answer is read (they fit the socket buffers).
        let mut off = 0;
        while off < out.len() {
            off += client.write(&out[off..]).unwrap();
        }
        let mut got = Vec::new();
        let mut buf = vec![0u8; 4096];
        while got.len() < 7 + 100_004 {
            let n = client.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(&got[..7], &LengthPrefix::U32_BE.frame(b"ABC")[..]);
        assert!(got[7 + 4..].iter().all(|&b| b == b'Z'));
        drop(client);
        assert_eq!(t.join().unwrap().counters.messages, 2);
    }

    #[test]
    fn a_response_that_breaks_fixed_framing_is_a_clear_error() {
        let mut spec = Spec::new(Transport::UnixStream);
        spec.size = 3;
        spec.response_size = 3;
        let (mut client, mut server_conn) = connector(&spec).unwrap().pair().unwrap();
        let mut server = HandlerServer::new(&spec, Box::new(|_: &[u8], r: &mut Vec<u8>| r.push(1)));
        client.write(b"abc").unwrap();
        let err = loop {
            match server.progress(&mut server_conn) {
                Ok(_) => continue,
                Err(e) => break e,
            }
        };
        assert!(format!("{err:#}").contains("--response-size 3"), "{err:#}");
    }
}
