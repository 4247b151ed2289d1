//! Workloads: what the two sides exchange. Each is one file with a client and a server
//! [`Flow`]; the table in [`client_flow`]/[`server_flow`] is the only place
//! that knows them all.

pub mod crr;
pub mod external;
pub mod handler;
pub mod rate;
pub mod rr;
pub mod stream;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::engine::Flow;
use crate::metrics::clock::Clock;
use crate::spec::{IterationLength, Spec, Workload};
use crate::transport::dial::Dialer;

/// When a client flow ends its iteration: after a time measured from its first step, or after a
/// number of messages.
#[derive(Clone, Copy, Debug)]
pub struct IterationEnd {
    length: IterationLength,
    deadline_ns: Option<u64>,
}

impl IterationEnd {
    /// Starts counting at the flow's first step.
    pub fn new(length: IterationLength) -> IterationEnd {
        IterationEnd {
            length,
            deadline_ns: None,
        }
    }

    /// True once the iteration is over, given the time now and the messages completed so far.
    #[inline]
    pub fn reached(&mut self, now_ns: u64, messages: u64) -> bool {
        match self.length {
            IterationLength::Duration { duration_ns } => {
                now_ns >= *self.deadline_ns.get_or_insert(now_ns + duration_ns)
            }
            IterationLength::Count { messages: n } => messages >= n,
        }
    }
}

/// A client flow's progress counter, read by the watchdog: the flow stores its completed message
/// count (a plain store to a line the flow owns, so it costs nothing measurable); the watchdog
/// declares the iteration stuck when no flow moved for `--timeout`.
#[derive(Clone, Debug, Default)]
pub struct Heartbeat(Arc<AtomicU64>);

impl Heartbeat {
    /// Publishes the number of messages completed so far.
    #[inline]
    pub fn beat(&self, messages: u64) {
        self.0.store(messages, Ordering::Relaxed);
    }

    /// The last published count.
    pub fn read(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What a client flow needs besides the spec.
pub struct ClientEnv<C: Clock> {
    /// The clock for timestamps.
    pub clock: C,
    /// When the flow's iteration ends.
    pub length: IterationLength,
    /// Progress published for the watchdog.
    pub heartbeat: Heartbeat,
}

/// The client side of one flow of `spec`'s workload; `dialer` opens `crr`'s connections.
pub fn client_flow<C: Clock + 'static>(
    spec: &Spec,
    env: ClientEnv<C>,
    dialer: Option<Dialer>,
) -> anyhow::Result<Box<dyn Flow>> {
    let x = &spec.extras;
    let custom = x.request.is_some()
        || x.response_delimiter.is_some()
        || x.length_prefix.is_some()
        || spec.server_handler.is_some();
    Ok(match spec.workload {
        Workload::Rr if custom => Box::new(external::ExternalClient::new(spec, env)),
        Workload::Rr => Box::new(rr::RrClient::new(spec, env)),
        Workload::Stream => Box::new(stream::StreamClient::new(spec, env)),
        Workload::Rate => Box::new(rate::RateClient::new(spec, env)),
        Workload::Crr => {
            let dialer = dialer.ok_or_else(|| anyhow::anyhow!("a crr client needs a dialer"))?;
            Box::new(crr::CrrClient::new(spec, env, dialer))
        }
    })
}

/// The server side of one flow of `spec`'s workload, for an iteration of `length`.
pub fn server_flow<C: Clock + 'static>(
    spec: &Spec,
    length: IterationLength,
    clock: C,
) -> Box<dyn Flow> {
    if let Some(h) = &spec.server_handler {
        return Box::new(handler::HandlerServer::new(spec, h.make()));
    }
    match spec.workload {
        Workload::Rr | Workload::Rate => Box::new(rr::RrServer::new(spec, clock)),
        Workload::Stream => Box::new(stream::StreamServer::new(spec, length, clock)),
        Workload::Crr => Box::new(crr::CrrServer::new(spec)),
    }
}

/// True when a workload's servers end on their own at end of stream once the clients close:
/// stream transports except `crr`, whose servers wait on a listener that never ends (they
/// are wound down like datagram servers).
pub fn servers_end_at_eof(spec: &Spec) -> bool {
    !spec.transport.is_datagram() && spec.workload != Workload::Crr
}

/// Which side counts a workload's throughput: the client for request/response (completed round
/// trips), the receiving server for one-way bulk transfer.
pub fn counted_by_server(workload: Workload) -> bool {
    match workload {
        Workload::Rr | Workload::Crr | Workload::Rate => false,
        Workload::Stream => true,
    }
}

/// True for workloads that move bulk data, whose results get a memcpy reference.
pub fn moves_bulk_data(workload: Workload) -> bool {
    workload == Workload::Stream
}

/// Writes a sequence number into the first 8 bytes of a datagram payload.
#[inline]
pub fn put_seq(buf: &mut [u8], seq: u64) {
    buf[..8].copy_from_slice(&seq.to_le_bytes());
}

/// Reads the sequence number from the first 8 bytes of a datagram payload.
#[inline]
pub fn get_seq(buf: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&buf[..8]);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_end_counts_from_the_first_check() {
        let mut end = IterationEnd::new(IterationLength::Duration { duration_ns: 100 });
        assert!(!end.reached(1000, 0));
        assert!(!end.reached(1099, 50));
        assert!(end.reached(1100, 50));
    }

    #[test]
    fn count_end_counts_messages() {
        let mut end = IterationEnd::new(IterationLength::Count { messages: 3 });
        assert!(!end.reached(0, 2));
        assert!(end.reached(0, 3));
    }

    #[test]
    fn sequence_numbers_round_trip() {
        let mut buf = [0u8; 16];
        put_seq(&mut buf, 0x0102_0304_0506_0708);
        assert_eq!(get_seq(&buf), 0x0102_0304_0506_0708);
    }
}
