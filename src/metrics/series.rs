//! Throughput over time: what a receiver counts per time slice (100 ms by default), kept in a
//! vector sized before the loop so recording never allocates.

use serde::{Deserialize, Serialize};

use crate::spec::IterationLength;

/// Default slice length: 100 ms.
pub const SLICE_NS: u64 = 100_000_000;

/// Slices kept for iterations without a known length (count-based): 10 minutes' worth.
const MAX_UNBOUNDED_SLICES: usize = 6000;

/// What the receiver counted in one time slice of an iteration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Slice {
    /// Start of the slice, in nanoseconds since the iteration started.
    pub start_ns: u64,
    /// Length of the slice in nanoseconds (the last one may be shorter).
    pub duration_ns: u64,
    /// Messages completed in the slice.
    pub msgs: u64,
    /// Payload bytes received in the slice.
    pub bytes: u64,
}

/// Counts messages and bytes into fixed time slices from a start time.
#[derive(Clone, Debug)]
pub struct SliceRecorder {
    start_ns: Option<u64>,
    slice_ns: u64,
    last_ns: u64,
    slices: Vec<Slice>,
}

impl SliceRecorder {
    /// A recorder with room for the whole iteration.
    pub fn new(length: IterationLength) -> SliceRecorder {
        let n = match length {
            IterationLength::Duration { duration_ns } => (duration_ns / SLICE_NS) as usize + 2,
            IterationLength::Count { .. } => MAX_UNBOUNDED_SLICES,
        };
        let slices = (0..n as u64)
            .map(|i| Slice {
                start_ns: i * SLICE_NS,
                duration_ns: SLICE_NS,
                msgs: 0,
                bytes: 0,
            })
            .collect();
        SliceRecorder {
            start_ns: None,
            slice_ns: SLICE_NS,
            last_ns: 0,
            slices,
        }
    }

    /// Sets time zero (the first call wins; `now_ns` is only called then).
    #[inline]
    pub fn start(&mut self, now_ns: impl FnOnce() -> u64) {
        self.start_ns.get_or_insert_with(now_ns);
    }

    /// Adds what arrived at `now_ns`. Past the pre-sized end it counts into the last slice.
    #[inline]
    pub fn record(&mut self, now_ns: u64, msgs: u64, bytes: u64) {
        let start = *self.start_ns.get_or_insert(now_ns);
        let offset = now_ns.saturating_sub(start);
        self.last_ns = offset;
        let i = ((offset / self.slice_ns) as usize).min(self.slices.len() - 1);
        let s = &mut self.slices[i];
        s.msgs += msgs;
        s.bytes += bytes;
    }

    /// Nanoseconds from time zero to the last record.
    pub fn span_ns(&self) -> u64 {
        self.last_ns
    }

    /// The slices up to the last record; the last one is cut at the last record.
    pub fn finish(mut self) -> Vec<Slice> {
        if self.start_ns.is_none() {
            return Vec::new();
        }
        let used = ((self.last_ns / self.slice_ns) as usize + 1).min(self.slices.len());
        self.slices.truncate(used);
        if let Some(last) = self.slices.last_mut() {
            last.duration_ns = (self.last_ns - last.start_ns).max(1);
        }
        self.slices
    }
}

/// Adds `other` into `into`, slice by slice (flows of one iteration share time zero closely
/// enough for a 100 ms resolution).
pub fn merge(into: &mut Vec<Slice>, other: &[Slice]) {
    for (i, s) in other.iter().enumerate() {
        match into.get_mut(i) {
            Some(t) => {
                t.msgs += s.msgs;
                t.bytes += s.bytes;
                t.duration_ns = t.duration_ns.max(s.duration_ns);
            }
            None => into.push(*s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_land_in_their_slices_and_the_tail_is_cut() {
        let mut r = SliceRecorder::new(IterationLength::Duration {
            duration_ns: 1_000_000_000,
        });
        r.start(|| 1_000);
        r.record(1_000 + 10, 1, 100);
        r.record(1_000 + 150_000_000, 2, 200);
        r.record(1_000 + 250_000_000, 3, 300);
        assert_eq!(r.span_ns(), 250_000_000);
        let s = r.finish();
        assert_eq!(s.len(), 3);
        assert_eq!((s[0].msgs, s[0].bytes), (1, 100));
        assert_eq!((s[1].msgs, s[1].bytes), (2, 200));
        assert_eq!(
            (s[2].msgs, s[2].bytes, s[2].duration_ns),
            (3, 300, 50_000_000)
        );
    }

    #[test]
    fn records_past_the_end_go_to_the_last_slice_without_allocating() {
        let mut r = SliceRecorder::new(IterationLength::Duration {
            duration_ns: 100_000_000,
        });
        let cap = r.slices.capacity();
        r.start(|| 0);
        r.record(10 * SLICE_NS, 1, 1);
        assert_eq!(r.slices.capacity(), cap);
        let s = r.finish();
        assert_eq!(s.last().unwrap().msgs, 1);
    }

    #[test]
    fn merging_adds_slice_by_slice() {
        let a = vec![Slice {
            start_ns: 0,
            duration_ns: 10,
            msgs: 1,
            bytes: 10,
        }];
        let mut m = vec![Slice {
            start_ns: 0,
            duration_ns: 10,
            msgs: 2,
            bytes: 20,
        }];
        merge(&mut m, &a);
        merge(&mut m, &[a[0], a[0]]);
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].msgs, m[0].bytes), (4, 40));
    }

    #[test]
    fn a_recorder_that_saw_nothing_has_no_slices() {
        assert!(
            SliceRecorder::new(IterationLength::Count { messages: 5 })
                .finish()
                .is_empty()
        );
    }
}
