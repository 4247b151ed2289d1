//! Data a completion engine received into provided buffers, waiting for the flow to read it:
//! oldest first, each entry a buffer id and how much of it is read. Pure bookkeeping; the
//! buffers themselves belong to the engine.

use std::collections::VecDeque;

/// Received-but-unread data in provided buffers, oldest first.
#[derive(Debug)]
pub struct Arrived {
    /// (buffer id, bytes in it, bytes already read)
    queue: VecDeque<(u16, u32, u32)>,
}

impl Arrived {
    /// An empty queue for at most `buffers` buffers (never reallocates).
    pub fn new(buffers: u16) -> Arrived {
        Arrived {
            queue: VecDeque::with_capacity(buffers as usize),
        }
    }

    /// A completion put `len` bytes into buffer `bid`.
    pub fn push(&mut self, bid: u16, len: u32) {
        self.queue.push_back((bid, len, 0));
    }

    /// The oldest unread bytes: (buffer id, offset, length), if any.
    pub fn front(&self) -> Option<(u16, u32, u32)> {
        self.queue
            .front()
            .map(|&(bid, len, used)| (bid, used, len - used))
    }

    /// Marks `n` bytes of the front buffer read; returns its id once it is used up (the
    /// engine gives it back to the kernel).
    pub fn consume(&mut self, n: u32) -> Option<u16> {
        let front = self.queue.front_mut()?;
        front.2 = (front.2 + n).min(front.1);
        if front.2 == front.1 {
            self.queue.pop_front().map(|(bid, ..)| bid)
        } else {
            None
        }
    }

    /// Takes every buffer still queued (their data is dropped), oldest first.
    pub fn drain(&mut self) -> impl Iterator<Item = u16> + '_ {
        self.queue.drain(..).map(|(bid, ..)| bid)
    }

    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_read_in_order_and_buffers_come_back_when_used_up() {
        let mut a = Arrived::new(4);
        a.push(3, 100);
        a.push(1, 10);
        assert_eq!(a.front(), Some((3, 0, 100)));
        assert_eq!(a.consume(60), None);
        assert_eq!(a.front(), Some((3, 60, 40)));
        assert_eq!(a.consume(40), Some(3));
        assert_eq!(a.front(), Some((1, 0, 10)));
        assert_eq!(a.consume(10), Some(1));
        assert!(a.is_empty());
        assert_eq!(a.consume(1), None);
    }

    #[test]
    fn over_consuming_ends_the_buffer_and_draining_returns_the_rest() {
        let mut a = Arrived::new(2);
        a.push(0, 5);
        a.push(1, 5);
        assert_eq!(
            a.consume(9),
            Some(0),
            "a datagram read takes the whole buffer"
        );
        a.push(0, 7);
        assert_eq!(a.drain().collect::<Vec<_>>(), [1, 0]);
        assert!(a.is_empty());
    }
}
