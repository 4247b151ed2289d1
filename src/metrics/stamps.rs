//! Per-message stamps (`--stages`): each side of a flow writes the clock readings of every
//! message into a log sized and touched before the iteration starts, so stamping in the
//! per-message loop is one clock read and one store into memory that is already mapped: no
//! allocation, no lock, no page fault. After the iteration the two sides' logs are joined message
//! by message into the stages (`run::worker::stages`).
//!
//! What it costs: one clock read on the client (its send's return; the send call and the
//! receive's return are read anyway for the latency) and three on the server (receive returned,
//! send called, send returned), about 20 ns each with a vDSO clock; 32 bytes per message on the
//! client and 40 on the server. The logs are sized from the case's fastest slot so far (twice
//! its message rate × the iteration's length, and room for at least 200 000 a second), so a case
//! of up to 100 000 round trips a second holds about 14 MB per flow for a 1 s iteration;
//! messages past the room are measured but not stamped, and counted.

use crate::spec::{IterationLength, Spec, Workload};

/// Most messages stamped per iteration over all flows: 2 Mi messages, 144 MiB of logs.
pub const MAX_STAMPED: usize = 1 << 21;

/// Fewest entries a flow's log gets.
pub const MIN_PER_FLOW: usize = 4096;

/// Round trips per second a flow's log always has room for: a case's rate can jump several-fold
/// between slots on a noisy machine (seen: 15k/s, then 80k/s), so the last rate alone is no bound.
pub const FLOOR_PER_SEC: f64 = 200_000.0;

/// How the client stamped one message (ns, CLOCK_MONOTONIC); 0 is "not stamped".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStamps {
    /// When the message's latency starts: the send call (`rr`), the intended send time
    /// (`rate`), the start of the connection (`crr`).
    pub start: u64,
    /// Before the first send call of the request.
    pub send_call: u64,
    /// After the send call that completed the request.
    pub send_return: u64,
    /// After the receive that completed the response; 0 when it never came (lost).
    pub recv_return: u64,
}

/// How the server stamped one request (ns, CLOCK_MONOTONIC).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerStamps {
    /// The request's sequence number in its client flow (1-based).
    pub seq: u64,
    /// The client flow it came from.
    pub flow: u32,
    /// Time spent in the user's handler, ns (saturated at `u32::MAX`).
    pub handler_ns: u32,
    /// After the receive that completed the request.
    pub recv_return: u64,
    /// Before the first send call of the response; 0 when none was sent.
    pub send_call: u64,
    /// After the send call that completed the response; 0 when none was sent.
    pub send_return: u64,
}

/// A pre-sized log of stamps: written in place (by sequence number) or appended.
#[derive(Clone, Debug, Default)]
pub struct StampLog<T> {
    entries: Vec<T>,
    len: usize,
    /// Messages that found no room.
    pub overflow: u64,
}

impl<T: Copy + Default> StampLog<T> {
    /// A log of `capacity` entries, every page written once so the hot loop takes no page
    /// fault (a zeroed allocation is only mapped when first written).
    pub fn with_capacity(capacity: usize) -> StampLog<T> {
        let mut entries = vec![T::default(); capacity];
        let per_page = (4096 / std::mem::size_of::<T>().max(1)).max(1);
        for i in (0..entries.len()).step_by(per_page) {
            // SAFETY: `i` is in bounds; a volatile write of the value already there makes the
            // kernel map the page now (the compiler may not elide it).
            unsafe { std::ptr::write_volatile(&mut entries[i], T::default()) };
        }
        StampLog {
            entries,
            len: 0,
            overflow: 0,
        }
    }

    /// The entry at `index` (a sequence number − 1), or `None` past the log's room.
    #[inline(always)]
    pub fn at(&mut self, index: u64) -> Option<&mut T> {
        let i = usize::try_from(index).ok()?;
        let e = self.entries.get_mut(i)?;
        self.len = self.len.max(i + 1);
        Some(e)
    }

    /// The entry of a message that starts now (index: its sequence number − 1), or `None`
    /// (counted as overflow) past the log's room.
    #[inline(always)]
    pub fn begin(&mut self, index: u64) -> Option<&mut T> {
        if usize::try_from(index).is_ok_and(|i| i < self.entries.len()) {
            self.at(index)
        } else {
            self.overflow += 1;
            None
        }
    }

    /// Appends `entry`, or counts it as overflow when the log is full.
    #[inline(always)]
    pub fn push(&mut self, entry: T) {
        match self.entries.get_mut(self.len) {
            Some(e) => {
                *e = entry;
                self.len += 1;
            }
            None => self.overflow += 1,
        }
    }

    /// The entries written so far (up to the highest index written or appended).
    pub fn entries(&self) -> &[T] {
        &self.entries[..self.len]
    }

    /// Room for this many entries.
    pub fn capacity(&self) -> usize {
        self.entries.len()
    }
}

/// Entries per flow for an iteration of `spec` lasting `length`; `rate_per_flow` is the case's
/// fastest message rate per flow so far (its warm-up's or an earlier iteration's).
pub fn capacity(spec: &Spec, length: IterationLength, rate_per_flow: Option<f64>) -> usize {
    let flows = spec.flows.max(1) as usize;
    let cap = (MAX_STAMPED / flows).max(MIN_PER_FLOW);
    let want = match length {
        IterationLength::Count { messages } => usize::try_from(messages).unwrap_or(usize::MAX),
        IterationLength::Duration { duration_ns } => {
            let secs = duration_ns as f64 / 1e9;
            let per_sec = if spec.workload == Workload::Rate {
                spec.rate.rate_per_sec as f64 * 1.05
            } else {
                rate_per_flow.map_or(FLOOR_PER_SEC, |r| (r * 2.0).max(FLOOR_PER_SEC))
            };
            (per_sec * secs) as usize + 1024
        }
    };
    want.clamp(MIN_PER_FLOW.min(cap), cap)
}

/// Most entries a flow's log of `spec` gets in any slot: its count, or the room a flow may get.
pub fn most_per_flow(spec: &Spec) -> usize {
    let flows = spec.flows.max(1) as usize;
    let cap = (MAX_STAMPED / flows).max(MIN_PER_FLOW);
    match spec.timing.length {
        IterationLength::Count { messages } => usize::try_from(messages)
            .unwrap_or(usize::MAX)
            .clamp(MIN_PER_FLOW.min(cap), cap),
        IterationLength::Duration { .. } => cap,
    }
}

/// Bytes `--stages` adds to an iteration of `spec` at most: both sides' logs of every flow and
/// the join's mark per client entry (0 without `--stages`).
pub fn most_log_bytes(spec: &Spec) -> u64 {
    if !spec.instrument.stages {
        return 0;
    }
    let per_entry = std::mem::size_of::<ClientStamps>() + std::mem::size_of::<ServerStamps>() + 1;
    u64::from(spec.flows.max(1)) * most_per_flow(spec) as u64 * per_entry as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Transport;

    #[test]
    fn a_log_writes_in_place_and_appends_within_its_room() {
        let mut log: StampLog<ClientStamps> = StampLog::with_capacity(3);
        log.at(1).unwrap().start = 7;
        assert_eq!(log.entries().len(), 2);
        assert!(log.at(3).is_none());
        let mut s: StampLog<ServerStamps> = StampLog::with_capacity(1);
        s.push(ServerStamps {
            seq: 1,
            ..ServerStamps::default()
        });
        s.push(ServerStamps::default());
        assert_eq!((s.entries().len(), s.overflow), (1, 1));
    }

    #[test]
    fn capacity_follows_the_count_the_rate_or_the_last_slot() {
        let mut spec = Spec::new(Transport::Tcp4);
        let second = IterationLength::Duration {
            duration_ns: 1_000_000_000,
        };
        assert_eq!(
            capacity(&spec, IterationLength::Count { messages: 50_000 }, None),
            50_000
        );
        assert_eq!(
            capacity(&spec, IterationLength::Count { messages: 5 }, None),
            MIN_PER_FLOW
        );
        assert_eq!(capacity(&spec, second, Some(10_000.0)), 201_024);
        assert_eq!(capacity(&spec, second, Some(300_000.0)), 601_024);
        assert_eq!(capacity(&spec, second, None), 201_024);
        spec.flows = 4096;
        assert_eq!(capacity(&spec, second, None), MIN_PER_FLOW, "bounded");
        spec.flows = 1;
        spec.workload = Workload::Rate;
        spec.rate.rate_per_sec = 1000;
        assert_eq!(capacity(&spec, second, Some(1e9)), MIN_PER_FLOW);
    }
}
