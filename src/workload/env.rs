//! What every client flow shares: when its iteration ends, the heartbeat the watchdog reads, the
//! clock, where a request/response client is in its round trip, and the sequence numbers
//! datagrams carry.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::metrics::clock::Clock;
use crate::metrics::stamps::{ClientStamps, ServerStamps, StampLog};
use crate::spec::IterationLength;

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
    /// The flow's index among the iteration's flows.
    pub flow: u32,
    /// `--stages`: the log its stamps go to, sized before the iteration.
    pub stamps: Option<StampLog<ClientStamps>>,
}

impl<C: Clock> ServerEnv<C> {
    /// A server flow's environment without stamps.
    pub fn plain(clock: C, length: IterationLength) -> ServerEnv<C> {
        ServerEnv {
            clock,
            length,
            flow: 0,
            stamps: None,
        }
    }
}

/// What a server flow needs besides the spec.
pub struct ServerEnv<C: Clock> {
    /// The clock for timestamps.
    pub clock: C,
    /// How long the iteration lasts.
    pub length: IterationLength,
    /// The index of the client flow it is connected to (for a workload that connects per
    /// transaction, its own index: requests then say their flow).
    pub flow: u32,
    /// `--stages`: the log its stamps go to, sized before the iteration.
    pub stamps: Option<StampLog<ServerStamps>>,
}

/// Where a request/response client is in its round trip (rr and external clients).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Ready to send the next request.
    Idle,
    /// Writing the request; bytes written so far.
    Sending(usize),
    /// Reading the response; bytes read so far.
    Receiving(usize),
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
