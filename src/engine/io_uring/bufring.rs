//! A provided-buffer ring: the ring of buffer descriptors shared with the kernel and the
//! buffers, registered under a buffer group id. The bookkeeping is [`RingBook`]; this file owns
//! the memory and writes what the book says. (The `io-uring` crate leaves buffer memory to its
//! users: about a hundred lines here.)

use std::io;
use std::sync::atomic::{AtomicU16, Ordering};

use io_uring::IoUring;
use io_uring::types::BufRingEntry;

use super::book::{BookError, RingBook};

/// Anonymous, page-aligned, populated memory.
struct Mapping {
    ptr: *mut u8,
    len: usize,
}

impl Mapping {
    fn new(len: usize) -> io::Result<Mapping> {
        // SAFETY: a private anonymous mapping touches no existing memory.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_POPULATE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Mapping {
            ptr: ptr.cast(),
            len,
        })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly what `new` mapped.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// One registered provided-buffer ring.
pub struct BufRing {
    ring: Mapping,
    bufs: Mapping,
    /// Size of each buffer.
    pub size: usize,
    /// Buffer group id.
    pub bgid: u16,
    /// Who holds which buffer.
    pub book: RingBook,
    registered: bool,
}

// SAFETY: the mappings are owned; the kernel side belongs to the ring of the same engine, and
// both stay on the engine's thread.
unsafe impl Send for BufRing {}

impl BufRing {
    /// Maps `count` buffers of `size` bytes (count a power of two), registers them with `uring`
    /// under `bgid` and gives them all to the kernel.
    pub fn new(uring: &IoUring, bgid: u16, count: u16, size: usize) -> io::Result<BufRing> {
        let entries = count as usize * std::mem::size_of::<BufRingEntry>();
        let ring = Mapping::new(entries.max(4096))?;
        let bufs = Mapping::new(count as usize * size)?;
        // SAFETY: the ring memory lives in the returned value, which unregisters the group
        // before the memory goes (see `unregister`, called by the engine before dropping it).
        unsafe {
            uring
                .submitter()
                .register_buf_ring_with_flags(ring.ptr as u64, count, bgid, 0)?
        };
        let mut br = BufRing {
            ring,
            bufs,
            size,
            bgid,
            book: RingBook::new(count, count),
            registered: true,
        };
        for bid in 0..count {
            br.give(bid).map_err(io::Error::other)?;
        }
        br.publish();
        Ok(br)
    }

    /// Start of buffer 0.
    pub fn base(&self) -> *const u8 {
        self.bufs.ptr
    }

    /// Writes buffer `bid` into the ring slot the book names (visible after `publish`).
    pub fn give(&mut self, bid: u16) -> Result<(), BookError> {
        let slot = self.book.give(bid)?;
        // SAFETY: `slot` < count, and the entries array fills the start of the ring mapping.
        let entry = unsafe { &mut *(self.ring.ptr as *mut BufRingEntry).add(slot as usize) };
        // SAFETY: buffer `bid` < count lies inside the buffer mapping.
        let addr = unsafe { self.bufs.ptr.add(bid as usize * self.size) };
        entry.set_addr(addr as u64);
        entry.set_len(self.size as u32);
        entry.set_bid(bid);
        Ok(())
    }

    /// Makes the buffers given so far visible to the kernel (a release store of the tail).
    pub fn publish(&self) {
        // SAFETY: the ring's tail is the 16-bit field BufRingEntry::tail points at inside
        // entry 0, 2-aligned; the kernel only reads it.
        let tail = unsafe {
            &*(BufRingEntry::tail(self.ring.ptr as *const BufRingEntry) as *const AtomicU16)
        };
        tail.store(self.book.tail(), Ordering::Release);
    }

    /// Unregisters the group from `uring` (before the memory goes).
    pub fn unregister(&mut self, uring: &IoUring) -> io::Result<()> {
        if std::mem::take(&mut self.registered) {
            uring.submitter().unregister_buf_ring(self.bgid)?;
        }
        Ok(())
    }
}
