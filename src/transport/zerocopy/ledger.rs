//! MSG_ZEROCOPY completion bookkeeping, pure (no sockets, no clocks): unit-tested without a
//! kernel.
//!
//! Every `send(MSG_ZEROCOPY)` that moves at least one byte gets the next 32-bit id of its socket
//! (counting from 0, wrapping). The kernel later queues notifications on the socket's error queue,
//! each covering an inclusive id range `[lo, hi]` (consecutive completions are merged), with
//! `SO_EE_CODE_ZEROCOPY_COPIED` set when the kernel copied the data after all (loopback always
//! does: the receive path cannot keep user pages). Until its id is notified a send's buffer
//! must not be written. The ledger tracks which buffer slots are still lent to the kernel and
//! counts what the kernel really did, by sends and by bytes.

use std::collections::VecDeque;

/// What the kernel reported for the sends notified so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ZcStats {
    /// Sends whose pages were sent without a copy.
    pub sends_zerocopy: u64,
    /// Sends the kernel copied anyway (`SO_EE_CODE_ZEROCOPY_COPIED`).
    pub sends_copied: u64,
    /// Bytes of the zero-copy sends.
    pub bytes_zerocopy: u64,
    /// Bytes of the copied sends.
    pub bytes_copied: u64,
    /// Notifications read from the error queue (each may cover many sends).
    pub notifications: u64,
}

impl ZcStats {
    /// Fraction of notified bytes the kernel moved without copying (0 when nothing was notified).
    pub fn zerocopy_fraction(&self) -> f64 {
        let all = self.bytes_zerocopy + self.bytes_copied;
        if all == 0 {
            0.0
        } else {
            self.bytes_zerocopy as f64 / all as f64
        }
    }
}

/// A notification that does not match the sends the ledger knows: a bookkeeping bug or a
/// socket shared with another sender.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "MSG_ZEROCOPY notification [{lo}, {hi}] names sends that are not outstanding (next id {next})"
)]
pub struct UnknownRange {
    /// First id of the range.
    pub lo: u32,
    /// Last id of the range (inclusive).
    pub hi: u32,
    /// The id the next send will get.
    pub next: u32,
}

#[derive(Clone, Copy, Debug)]
struct Outstanding {
    slot: u32,
    bytes: u32,
    notified: bool,
}

/// Outstanding zero-copy sends of one socket, by id.
#[derive(Debug)]
pub struct ZcLedger {
    next_id: u32,
    /// Ids `next_id - len .. next_id`, oldest first; notified ones are popped from the front.
    outstanding: VecDeque<Outstanding>,
    /// Per buffer slot: how many of its sends are not notified yet.
    lent: Vec<u32>,
    stats: ZcStats,
}

impl ZcLedger {
    /// A ledger for a fresh socket and `slots` send buffers.
    pub fn new(slots: usize) -> ZcLedger {
        ZcLedger {
            next_id: 0,
            outstanding: VecDeque::with_capacity(slots.max(1) * 8),
            lent: vec![0; slots],
            stats: ZcStats::default(),
        }
    }

    /// Records a `send(MSG_ZEROCOPY)` of `bytes` (> 0) from buffer `slot`; returns its id.
    pub fn sent(&mut self, slot: usize, bytes: usize) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.outstanding.push_back(Outstanding {
            slot: slot as u32,
            bytes: bytes as u32,
            notified: false,
        });
        self.lent[slot] += 1;
        id
    }

    /// Applies one notification for ids `lo..=hi` (wrapping), `copied` when the kernel copied.
    pub fn notified(&mut self, lo: u32, hi: u32, copied: bool) -> Result<(), UnknownRange> {
        let first = self.next_id.wrapping_sub(self.outstanding.len() as u32);
        let start = lo.wrapping_sub(first) as usize;
        let count = hi.wrapping_sub(lo) as usize + 1;
        let unknown = UnknownRange {
            lo,
            hi,
            next: self.next_id,
        };
        if start >= self.outstanding.len() || count > self.outstanding.len() - start {
            return Err(unknown);
        }
        if self
            .outstanding
            .range(start..start + count)
            .any(|o| o.notified)
        {
            return Err(unknown);
        }
        for o in self.outstanding.range_mut(start..start + count) {
            o.notified = true;
            self.lent[o.slot as usize] -= 1;
            if copied {
                self.stats.sends_copied += 1;
                self.stats.bytes_copied += u64::from(o.bytes);
            } else {
                self.stats.sends_zerocopy += 1;
                self.stats.bytes_zerocopy += u64::from(o.bytes);
            }
        }
        self.stats.notifications += 1;
        while self.outstanding.front().is_some_and(|o| o.notified) {
            self.outstanding.pop_front();
        }
        Ok(())
    }

    /// True while some send from `slot` is not notified: its buffer must not be written.
    pub fn is_lent(&self, slot: usize) -> bool {
        self.lent[slot] > 0
    }

    /// Sends not notified yet.
    pub fn outstanding(&self) -> usize {
        self.outstanding.iter().filter(|o| !o.notified).count()
    }

    /// Bytes of the sends not notified yet.
    pub fn outstanding_bytes(&self) -> u64 {
        self.outstanding
            .iter()
            .filter(|o| !o.notified)
            .map(|o| u64::from(o.bytes))
            .sum()
    }

    /// What the kernel reported so far.
    pub fn stats(&self) -> ZcStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outstanding_bytes_are_those_not_notified() {
        let mut l = ZcLedger::new(2);
        l.sent(0, 100);
        l.sent(1, 30);
        l.sent(0, 7);
        l.notified(1, 1, true).unwrap();
        assert_eq!(l.outstanding_bytes(), 107);
        assert_eq!(l.outstanding(), 2);
    }

    #[test]
    fn a_merged_range_frees_every_slot_it_covers() {
        let mut l = ZcLedger::new(4);
        for s in 0..4 {
            assert_eq!(l.sent(s, 1000), s as u32);
        }
        l.notified(0, 2, false).unwrap();
        assert!(!l.is_lent(0) && !l.is_lent(1) && !l.is_lent(2));
        assert!(l.is_lent(3));
        assert_eq!(l.outstanding(), 1);
        assert_eq!(l.stats().sends_zerocopy, 3);
        assert_eq!(l.stats().bytes_zerocopy, 3000);
        assert_eq!(l.stats().notifications, 1);
    }

    #[test]
    fn copied_notifications_are_counted_apart_by_bytes() {
        let mut l = ZcLedger::new(2);
        l.sent(0, 65536);
        l.sent(1, 100);
        l.notified(0, 0, true).unwrap();
        l.notified(1, 1, false).unwrap();
        let s = l.stats();
        assert_eq!((s.sends_copied, s.bytes_copied), (1, 65536));
        assert_eq!((s.sends_zerocopy, s.bytes_zerocopy), (1, 100));
        assert!((s.zerocopy_fraction() - 100.0 / 65636.0).abs() < 1e-12);
    }

    #[test]
    fn out_of_order_ranges_free_slots_as_they_come() {
        let mut l = ZcLedger::new(3);
        l.sent(0, 1);
        l.sent(1, 1);
        l.sent(2, 1);
        l.notified(2, 2, false).unwrap();
        assert!(l.is_lent(0) && l.is_lent(1) && !l.is_lent(2));
        l.notified(0, 1, false).unwrap();
        assert_eq!(l.outstanding(), 0);
        assert_eq!(l.stats().sends_zerocopy, 3);
    }

    #[test]
    fn a_partial_send_lends_its_slot_twice() {
        let mut l = ZcLedger::new(1);
        l.sent(0, 40_000);
        l.sent(0, 25_536);
        l.notified(0, 0, true).unwrap();
        assert!(l.is_lent(0), "the second part is still out");
        l.notified(1, 1, true).unwrap();
        assert!(!l.is_lent(0));
        assert_eq!(l.stats().bytes_copied, 65_536);
    }

    #[test]
    fn ids_wrap_around_u32() {
        let mut l = ZcLedger::new(2);
        l.next_id = u32::MAX - 1;
        assert_eq!(l.sent(0, 10), u32::MAX - 1);
        assert_eq!(l.sent(1, 10), u32::MAX);
        assert_eq!(l.sent(0, 10), 0);
        l.notified(u32::MAX - 1, 0, false).unwrap();
        assert_eq!(l.outstanding(), 0);
        assert_eq!(l.stats().sends_zerocopy, 3);
    }

    #[test]
    fn unknown_or_repeated_ranges_are_refused_without_changing_anything() {
        let mut l = ZcLedger::new(2);
        l.sent(0, 1);
        l.sent(1, 1);
        assert_eq!(
            l.notified(2, 2, false),
            Err(UnknownRange {
                lo: 2,
                hi: 2,
                next: 2
            })
        );
        assert!(l.notified(1, 3, false).is_err(), "runs past the last send");
        l.notified(1, 1, false).unwrap();
        assert!(l.notified(1, 1, false).is_err(), "already notified");
        assert!(l.notified(0, 1, false).is_err(), "overlaps a notified send");
        assert_eq!(l.stats().sends_zerocopy, 1);
        assert!(l.is_lent(0));
    }
}
