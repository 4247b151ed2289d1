//! What a client of a service measures besides the round-trip latency: a histogram per request
//! kind, the HTTP status codes of the responses, and each connection's TCP_INFO.

use crate::metrics::histogram::{LatencyHistogram, new_histogram};
use crate::metrics::tcp_info::TcpTrack;

/// Distinct status codes counted per flow; codes beyond the first 15 count under code 0
/// ("other") in the last slot, so counting never allocates.
pub const STATUS_SLOTS: usize = 16;

/// Response counts per HTTP status code, in a fixed table (allocated once, up front).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatusCounts {
    /// (code, responses), in the order codes were first seen.
    pub counts: Vec<(u16, u64)>,
}

impl StatusCounts {
    /// An empty table with room for [`STATUS_SLOTS`] codes.
    pub fn new() -> StatusCounts {
        StatusCounts {
            counts: Vec::with_capacity(STATUS_SLOTS),
        }
    }

    /// Counts one response with status `code`.
    pub fn count(&mut self, code: u16) {
        if let Some(c) = self.counts.iter_mut().find(|c| c.0 == code) {
            c.1 += 1;
            return;
        }
        // The last slot is "other" (code 0) once the others are taken.
        let code = if self.counts.len() >= STATUS_SLOTS - 1 {
            0
        } else {
            code
        };
        match self.counts.iter_mut().find(|c| c.0 == code) {
            Some(c) => c.1 += 1,
            None => self.counts.push((code, 1)),
        }
    }

    /// Adds another table's counts (merging flows; may grow past the slots).
    pub fn add(&mut self, other: &StatusCounts) {
        for &(code, n) in &other.counts {
            match self.counts.iter_mut().find(|c| c.0 == code) {
                Some(c) => c.1 += n,
                None => self.counts.push((code, n)),
            }
        }
    }
}

/// A service client's measurements over one iteration (one flow, or merged over flows).
#[derive(Clone, Debug, Default)]
pub struct ServiceMeasure {
    /// Latency per request kind, in the order of the case's kinds (empty: one kind).
    pub kinds: Vec<LatencyHistogram>,
    /// HTTP status codes (`--protocol http1`).
    pub status: StatusCounts,
    /// Each connection's TCP_INFO (TCP connections only).
    pub tcp: Vec<TcpTrack>,
    /// Round trips the TCP tracks cover.
    pub messages: u64,
    /// Response bytes the TCP tracks cover.
    pub response_bytes: u64,
}

impl ServiceMeasure {
    /// A measure for `kinds` request kinds (no per-kind histograms for one kind).
    pub fn new(kinds: usize) -> ServiceMeasure {
        ServiceMeasure {
            kinds: if kinds > 1 {
                (0..kinds).map(|_| new_histogram()).collect()
            } else {
                Vec::new()
            },
            status: StatusCounts::new(),
            ..ServiceMeasure::default()
        }
    }

    /// Adds another flow's measure.
    pub fn add(&mut self, other: &ServiceMeasure) -> Result<(), hdrhistogram::AdditionError> {
        if self.kinds.len() < other.kinds.len() {
            self.kinds.resize_with(other.kinds.len(), new_histogram);
        }
        for (mine, theirs) in self.kinds.iter_mut().zip(&other.kinds) {
            mine.add(theirs)?;
        }
        self.status.add(&other.status);
        self.tcp.extend_from_slice(&other.tcp);
        self.messages += other.messages;
        self.response_bytes += other.response_bytes;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_count_without_growing_past_their_slots() {
        let mut s = StatusCounts::new();
        for code in 100..200u16 {
            s.count(code);
        }
        s.count(100);
        assert_eq!(s.counts.len(), STATUS_SLOTS);
        assert_eq!(s.counts[0], (100, 2));
        assert_eq!(s.counts.iter().map(|c| c.1).sum::<u64>(), 101);
        assert_eq!(s.counts.capacity(), STATUS_SLOTS);
        let mut t = StatusCounts::new();
        t.count(200);
        t.add(&s);
        assert_eq!(t.counts.iter().map(|c| c.1).sum::<u64>(), 102);
    }
}
