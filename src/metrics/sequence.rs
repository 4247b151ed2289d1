//! Datagram sequence accounting at the receiver: lost, reordered and duplicated datagrams, from
//! the sequence numbers the sender writes into each payload (1, 2, 3, ...).
//!
//! A sliding window of the last [`WINDOW`] sequence numbers remembers which arrived, so a late
//! datagram is told apart from a duplicate. Losses are counted up to the highest sequence number
//! received: datagrams sent after it were still in flight when the iteration ended, not lost.

/// How far back (in sequence numbers) duplicates and reordering are recognised.
pub const WINDOW: u64 = 4096;

/// Tracks which sequence numbers arrived.
#[derive(Clone, Debug)]
pub struct SequenceTracker {
    highest: u64,
    unique: u64,
    reordered: u64,
    duplicated: u64,
    too_old: u64,
    seen: Box<[u64; (WINDOW / 64) as usize]>,
}

impl Default for SequenceTracker {
    fn default() -> Self {
        SequenceTracker {
            highest: 0,
            unique: 0,
            reordered: 0,
            duplicated: 0,
            too_old: 0,
            seen: Box::new([0; (WINDOW / 64) as usize]),
        }
    }
}

impl SequenceTracker {
    fn bit(seq: u64) -> (usize, u64) {
        let i = seq % WINDOW;
        ((i / 64) as usize, 1u64 << (i % 64))
    }

    /// Accounts for one arrival; sequence numbers start at 1.
    #[inline]
    pub fn arrived(&mut self, seq: u64) {
        if seq > self.highest {
            // Forget the window positions that the new highest pushes out (at most WINDOW).
            let clear_from = self.highest.max(seq.saturating_sub(WINDOW)) + 1;
            for s in clear_from..seq {
                let (w, b) = Self::bit(s);
                self.seen[w] &= !b;
            }
            let (w, b) = Self::bit(seq);
            self.seen[w] |= b;
            self.highest = seq;
            self.unique += 1;
        } else if self.highest - seq >= WINDOW {
            self.too_old += 1;
            self.reordered += 1;
            self.unique += 1;
        } else {
            let (w, b) = Self::bit(seq);
            if self.seen[w] & b != 0 {
                self.duplicated += 1;
            } else {
                self.seen[w] |= b;
                self.reordered += 1;
                self.unique += 1;
            }
        }
    }

    /// Datagrams never seen, up to the highest sequence number received.
    pub fn lost(&self) -> u64 {
        self.highest.saturating_sub(self.unique)
    }

    /// Datagrams that arrived after a later one.
    pub fn reordered(&self) -> u64 {
        self.reordered
    }

    /// Datagrams that arrived more than once (within the window).
    pub fn duplicated(&self) -> u64 {
        self.duplicated
    }

    /// Distinct datagrams received.
    pub fn unique(&self) -> u64 {
        self.unique
    }

    /// The highest sequence number received.
    pub fn highest(&self) -> u64 {
        self.highest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn gaps_reordering_and_duplicates_are_told_apart() {
        let mut t = SequenceTracker::default();
        for s in [1, 2, 4, 3, 3, 7, 5] {
            t.arrived(s);
        }
        // 6 never came; 3 and 5 came late; the second 3 is a duplicate.
        assert_eq!(t.lost(), 1);
        assert_eq!(t.reordered(), 2);
        assert_eq!(t.duplicated(), 1);
        assert_eq!(t.unique(), 6);
    }

    #[test]
    fn every_nth_dropped_is_counted_exactly() {
        let mut t = SequenceTracker::default();
        for s in (1..=10_000u64).filter(|s| s % 7 != 0) {
            t.arrived(s);
        }
        assert_eq!(t.lost(), 10_000 / 7);
        assert_eq!(t.reordered() + t.duplicated(), 0);
    }

    proptest! {
        /// Whatever order and duplication, unique + lost covers every number up to the highest,
        /// and duplicates are exactly the extra arrivals (within the window).
        #[test]
        fn accounting_is_consistent(mut seqs in proptest::collection::vec(1u64..3000, 1..2000)) {
            let mut t = SequenceTracker::default();
            for &s in &seqs {
                t.arrived(s);
            }
            let highest = *seqs.iter().max().unwrap();
            seqs.sort_unstable();
            let n = seqs.len() as u64;
            seqs.dedup();
            prop_assert_eq!(t.highest(), highest);
            prop_assert_eq!(t.unique(), seqs.len() as u64);
            prop_assert_eq!(t.lost(), highest - seqs.len() as u64);
            prop_assert_eq!(t.duplicated(), n - seqs.len() as u64);
        }
    }
}
