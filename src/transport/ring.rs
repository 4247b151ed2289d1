//! The byte rings under `shm`: two single-producer/single-consumer rings in shared memory, one
//! per direction, so a round trip costs what moving cache lines between the two CPUs costs and
//! nothing else: no system call, no kernel, no scheduler.
//!
//! With the `spin` engine both sides poll the ring. With the `blocking` engine a reader that
//! finds the ring empty sleeps on a futex and the writer wakes it: the same data path plus exactly
//! one kernel wake-up, which isolates what sleeping costs without any file-descriptor machinery.

use std::cell::UnsafeCell;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering, fence};
use std::time::Duration;

use crate::host::futex;

/// Default ring capacity in bytes (per direction).
pub const DEFAULT_CAPACITY: usize = 64 * 1024;

/// Keeps the producer's and consumer's positions on separate cache lines (128 bytes covers the
/// adjacent-line prefetcher on Intel), so they do not false-share.
#[repr(align(128))]
struct Padded<T>(T);

/// One direction: a byte ring with wrapping u32 positions (the futex word must be 32 bits).
struct Ring {
    /// Bytes written so far (wrapping); written by the producer only.
    head: Padded<AtomicU32>,
    /// Bytes read so far (wrapping); written by the consumer only.
    tail: Padded<AtomicU32>,
    /// Where the consumer sleeps when the ring is empty.
    data: Padded<Sleeper>,
    /// Where the producer sleeps when the ring is full.
    space: Padded<Sleeper>,
    /// Set when either end is dropped: the reader sees end of stream once the ring is empty,
    /// the writer gets EPIPE.
    closed: AtomicBool,
    buf: Box<[UnsafeCell<u8>]>,
    mask: u32,
}

// SAFETY: `buf` is only written by the single producer in the region [tail, tail+cap) that the
// consumer does not read, and only read by the single consumer in [tail, head) after an Acquire
// load of `head` that pairs with the producer's Release store; positions are atomics.
unsafe impl Sync for Ring {}

impl Ring {
    fn new(capacity: usize) -> Ring {
        let cap = capacity.clamp(64, 1 << 30).next_power_of_two();
        Ring {
            head: Padded(AtomicU32::new(0)),
            tail: Padded(AtomicU32::new(0)),
            data: Padded(Sleeper::default()),
            space: Padded(Sleeper::default()),
            closed: AtomicBool::new(false),
            buf: (0..cap).map(|_| UnsafeCell::new(0)).collect(),
            mask: (cap - 1) as u32,
        }
    }

    fn capacity(&self) -> u32 {
        self.mask + 1
    }

    fn base(&self) -> *mut u8 {
        UnsafeCell::raw_get(self.buf.as_ptr())
    }

    /// Copies `src` into the ring at position `pos` (handles the wrap).
    ///
    /// # Safety
    /// Only the producer may call this, for bytes in the free region.
    unsafe fn copy_in(&self, pos: u32, src: &[u8]) {
        let start = (pos & self.mask) as usize;
        let first = src.len().min(self.capacity() as usize - start);
        // SAFETY: start+first <= capacity and the rest wraps to the front; the caller guarantees
        // the consumer does not read these bytes until `head` is published.
        unsafe {
            std::ptr::copy_nonoverlapping(src.as_ptr(), self.base().add(start), first);
            std::ptr::copy_nonoverlapping(src.as_ptr().add(first), self.base(), src.len() - first);
        }
    }

    /// Copies bytes at position `pos` out of the ring into `dst`.
    ///
    /// # Safety
    /// Only the consumer may call this, for bytes that `head` has published.
    unsafe fn copy_out(&self, pos: u32, dst: &mut [u8]) {
        let start = (pos & self.mask) as usize;
        let first = dst.len().min(self.capacity() as usize - start);
        // SAFETY: as in copy_in; the producer does not overwrite these bytes until `tail` moves.
        unsafe {
            std::ptr::copy_nonoverlapping(self.base().add(start), dst.as_mut_ptr(), first);
            std::ptr::copy_nonoverlapping(
                self.base(),
                dst.as_mut_ptr().add(first),
                dst.len() - first,
            );
        }
    }
}

/// A place for one thread to sleep until the other side signals: a futex word that is bumped on
/// every wake, plus a flag saying someone sleeps (so the common case costs no system call).
#[derive(Default)]
struct Sleeper {
    waiting: AtomicU32,
    signal: AtomicU32,
}

impl Sleeper {
    /// Sleeps until `ready()` holds or a wake-up arrives. Announces itself first and reads the
    /// signal before checking `ready`, so a wake between the check and the sleep changes the
    /// signal and the sleep returns at once (both sides use SeqCst: one sees the other).
    fn sleep(&self, ready: impl Fn() -> bool, tick: Option<Duration>) -> io::Result<()> {
        self.waiting.store(1, Ordering::SeqCst);
        let seen = self.signal.load(Ordering::SeqCst);
        let result = if ready() {
            Ok(())
        } else {
            futex::wait(&self.signal, seen, tick)
        };
        self.waiting.store(0, Ordering::Relaxed);
        match result {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ETIMEDOUT) => {
                Err(io::ErrorKind::WouldBlock.into())
            }
            Err(e) => Err(e),
        }
    }

    /// Wakes the sleeper, if there is one.
    fn wake(&self) {
        fence(Ordering::SeqCst);
        if self.waiting.load(Ordering::SeqCst) != 0 {
            self.wake_always();
        }
    }

    /// Wakes the sleeper even if it has not announced itself yet (used on close).
    fn wake_always(&self) {
        self.signal.fetch_add(1, Ordering::SeqCst);
        futex::wake_one(&self.signal);
    }
}

/// One side of an shm connection.
pub struct ShmEnd {
    tx: Arc<Ring>,
    rx: Arc<Ring>,
    nonblocking: bool,
    tick: Option<Duration>,
}

impl ShmEnd {
    /// Reads up to `buf.len()` bytes; `WouldBlock` when empty and non-blocking (or after the tick).
    #[inline]
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let ring = &*self.rx;
        let tail = ring.tail.0.load(Ordering::Relaxed);
        loop {
            let head = ring.head.0.load(Ordering::Acquire);
            let avail = head.wrapping_sub(tail) as usize;
            if avail > 0 {
                let n = avail.min(buf.len());
                // SAFETY: we are the only consumer and [tail, tail+n) is published by `head`.
                unsafe { ring.copy_out(tail, &mut buf[..n]) };
                ring.tail
                    .0
                    .store(tail.wrapping_add(n as u32), Ordering::Release);
                if !self.nonblocking {
                    ring.space.0.wake();
                }
                return Ok(n);
            }
            if ring.closed.load(Ordering::Acquire) && ring.head.0.load(Ordering::Acquire) == head {
                return Ok(0);
            }
            if self.nonblocking {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let ready =
                || ring.head.0.load(Ordering::SeqCst) != head || ring.closed.load(Ordering::SeqCst);
            ring.data.0.sleep(ready, self.tick)?;
        }
    }

    /// Writes what fits, up to `buf.len()` bytes.
    #[inline]
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let ring = &*self.tx;
        let head = ring.head.0.load(Ordering::Relaxed);
        loop {
            if ring.closed.load(Ordering::Acquire) {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            let tail = ring.tail.0.load(Ordering::Acquire);
            let free = (ring.capacity() - head.wrapping_sub(tail)) as usize;
            if free > 0 {
                let n = free.min(buf.len());
                // SAFETY: we are the only producer and [head, head+n) is free.
                unsafe { ring.copy_in(head, &buf[..n]) };
                ring.head
                    .0
                    .store(head.wrapping_add(n as u32), Ordering::Release);
                if !self.nonblocking {
                    ring.data.0.wake();
                }
                return Ok(n);
            }
            if self.nonblocking {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let ready =
                || ring.tail.0.load(Ordering::SeqCst) != tail || ring.closed.load(Ordering::SeqCst);
            ring.space.0.sleep(ready, self.tick)?;
        }
    }

    /// Spin (non-blocking) or futex (blocking) waiting.
    pub fn set_nonblocking(&mut self, nonblocking: bool) {
        self.nonblocking = nonblocking;
    }

    /// Longest one futex sleep lasts before `WouldBlock`.
    pub fn set_wait_tick(&mut self, tick: Duration) {
        self.tick = Some(tick);
    }
}

impl Drop for ShmEnd {
    fn drop(&mut self) {
        // Tell the peer, and wake it wherever it sleeps.
        for ring in [&self.tx, &self.rx] {
            ring.closed.store(true, Ordering::SeqCst);
            ring.data.0.wake_always();
            ring.space.0.wake_always();
        }
    }
}

/// Two connected ring ends (client, server) of `capacity` bytes per direction, and the
/// capacity the rings really have.
pub fn pair(capacity: usize) -> (ShmEnd, ShmEnd, usize) {
    let c2s = Arc::new(Ring::new(capacity));
    let s2c = Arc::new(Ring::new(capacity));
    let size = c2s.capacity() as usize;
    let client = ShmEnd {
        tx: c2s.clone(),
        rx: s2c.clone(),
        nonblocking: false,
        tick: None,
    };
    let server = ShmEnd {
        tx: s2c,
        rx: c2s,
        nonblocking: false,
        tick: None,
    };
    (client, server, size)
}
