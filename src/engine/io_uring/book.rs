//! Provided-buffer-ring bookkeeping, pure (no ring, no memory): which buffer ids the kernel
//! holds and which ring slot the next returned buffer goes to.
//!
//! The ring (`IORING_REGISTER_PBUF_RING`) is an array of `entries` (a power of two) slots shared
//! with the kernel; the application writes a buffer into slot `tail & mask`, then publishes the
//! new 16-bit `tail`. The kernel takes buffers in ring order and names each in a completion
//! (`IORING_CQE_F_BUFFER`, the id in the upper 16 bits of the flags). When it holds none, a
//! multishot receive ends with `-ENOBUFS` and is armed again once buffers are returned.

/// A buffer ring call that contradicts what the book knows (a bookkeeping bug, or a completion
/// for another ring): refused, and nothing changes.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BookError {
    /// A buffer id outside `0..buffers`.
    #[error("buffer id {0} is not in the ring")]
    NoSuchBuffer(u16),
    /// Returning a buffer the kernel already holds.
    #[error("buffer {0} is already in the ring")]
    AlreadyGiven(u16),
    /// A completion named a buffer the kernel did not hold.
    #[error("the kernel reported buffer {0}, which it did not hold")]
    NotHeld(u16),
}

/// Who holds each buffer of one provided-buffer ring.
#[derive(Debug)]
pub struct RingBook {
    mask: u16,
    tail: u16,
    held_by_kernel: Vec<bool>,
    kernel_count: usize,
}

impl RingBook {
    /// A book for a ring of `entries` slots (a power of two, at most 32768) and `buffers`
    /// buffers (at most `entries`), none given to the kernel yet.
    pub fn new(entries: u16, buffers: u16) -> RingBook {
        assert!(
            entries.is_power_of_two() && entries <= 32768,
            "ring entries {entries}"
        );
        assert!(
            buffers <= entries,
            "{buffers} buffers do not fit {entries} slots"
        );
        RingBook {
            mask: entries - 1,
            tail: 0,
            held_by_kernel: vec![false; buffers as usize],
            kernel_count: 0,
        }
    }

    /// Gives buffer `bid` to the kernel: returns the ring slot to write it into. The caller
    /// publishes [`RingBook::tail`] (a release store) once it has written the slot.
    pub fn give(&mut self, bid: u16) -> Result<u16, BookError> {
        let held = self
            .held_by_kernel
            .get_mut(bid as usize)
            .ok_or(BookError::NoSuchBuffer(bid))?;
        if *held {
            return Err(BookError::AlreadyGiven(bid));
        }
        *held = true;
        self.kernel_count += 1;
        let slot = self.tail & self.mask;
        self.tail = self.tail.wrapping_add(1);
        Ok(slot)
    }

    /// A completion handed buffer `bid` to the application.
    pub fn taken(&mut self, bid: u16) -> Result<(), BookError> {
        let held = self
            .held_by_kernel
            .get_mut(bid as usize)
            .ok_or(BookError::NoSuchBuffer(bid))?;
        if !*held {
            return Err(BookError::NotHeld(bid));
        }
        *held = false;
        self.kernel_count -= 1;
        Ok(())
    }

    /// The tail to publish to the kernel.
    pub fn tail(&self) -> u16 {
        self.tail
    }

    /// Buffers the kernel holds: at 0 a multishot receive stops with ENOBUFS.
    pub fn with_kernel(&self) -> usize {
        self.kernel_count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_the_tail_and_wrap_at_the_ring_size() {
        let mut b = RingBook::new(4, 4);
        let slots: Vec<u16> = (0..4).map(|i| b.give(i).unwrap()).collect();
        assert_eq!(slots, [0, 1, 2, 3]);
        assert_eq!(b.with_kernel(), 4);
        b.taken(2).unwrap();
        b.taken(0).unwrap();
        assert_eq!(
            b.give(2),
            Ok(0),
            "the fifth buffer given goes to slot 4 & 3 = 0"
        );
        assert_eq!(b.give(0), Ok(1));
        assert_eq!(b.tail(), 6);
        assert_eq!(b.with_kernel(), 4);
    }

    #[test]
    fn the_16_bit_tail_wraps_without_losing_the_slot() {
        let mut b = RingBook::new(8, 1);
        for i in 0..70_000u32 {
            assert_eq!(b.give(0), Ok((i % 8) as u16));
            b.taken(0).unwrap();
        }
        assert_eq!(b.tail(), (70_000u32 % 65_536) as u16);
        assert_eq!(b.with_kernel(), 0);
    }

    #[test]
    fn contradictions_are_refused_and_change_nothing() {
        let mut b = RingBook::new(2, 2);
        assert_eq!(b.give(5), Err(BookError::NoSuchBuffer(5)));
        b.give(1).unwrap();
        assert_eq!(b.give(1), Err(BookError::AlreadyGiven(1)));
        assert_eq!(b.taken(0), Err(BookError::NotHeld(0)));
        assert_eq!(b.taken(7), Err(BookError::NoSuchBuffer(7)));
        assert_eq!((b.tail(), b.with_kernel()), (1, 1));
        b.taken(1).unwrap();
        assert_eq!(b.taken(1), Err(BookError::NotHeld(1)));
        assert_eq!(b.with_kernel(), 0);
    }
}
