//! Submitted I/O on a connection: the state a completion engine (io_uring) attaches to a
//! [`Conn`](super::Conn) so that flows written for `read`/`write` run over a ring unchanged.
//!
//! The contract (the one rule for flows, documented on [`Flow`](crate::engine::Flow)): a read
//! or write that returned `WouldBlock` may have been *submitted*; the flow leaves that buffer
//! alone and calls the same read or write with the same buffer on a later step, which then
//! returns the result. A call with another buffer while one is outstanding is refused
//! (`InvalidInput`), never silently served. Writes of at most [`SLOT_BYTES`] are copied into a
//! slot the port owns and reported written at once (the engine submits them together with the
//! next receive, so a request/response costs one `io_uring_enter`); a short or failed slot send
//! is finished or reported by the engine. Pure state: no ring and no system calls here; the
//! engine moves requests to the ring and completions back.
//!
//! Ports live in a per-thread table the engine installs for the length of its `drive`; a
//! connection holds only a [`PortKey`]. A key from a finished drive (a connection a flow kept)
//! or from another thread finds nothing and its I/O fails with an error, never touches memory
//! that is gone.

use std::cell::RefCell;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

use super::arrived::Arrived;
use crate::metrics::counters::ZeroCopyCounts;

/// Largest write copied into the port's slot and reported written at once.
pub const SLOT_BYTES: usize = 4096;

/// One direction's submitted operation on a flow's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Nothing outstanding.
    Idle,
    /// The flow asked; the engine has not submitted it yet.
    Requested {
        /// The buffer's address.
        ptr: usize,
        /// Its length.
        len: usize,
    },
    /// Submitted to the kernel.
    InFlight {
        /// The buffer's address.
        ptr: usize,
        /// Its length.
        len: usize,
    },
    /// Completed with `res` (bytes or -errno), waiting for the flow to call again.
    Done {
        /// The buffer's address.
        ptr: usize,
        /// Its length.
        len: usize,
        /// The completion's result.
        res: i32,
    },
}

/// The small-write slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Free for the next small write.
    Free,
    /// Holds `len` bytes of which `sent` are sent; the rest is to be submitted.
    Queued {
        /// Bytes in the slot.
        len: usize,
        /// Bytes already sent.
        sent: usize,
    },
    /// The rest after `sent` is submitted.
    InFlight {
        /// Bytes in the slot.
        len: usize,
        /// Bytes already sent.
        sent: usize,
    },
}

/// Provided-buffer receive (the multishot variant): the kernel picks the buffers.
#[derive(Debug)]
pub struct Lent {
    /// Data received into ring buffers, not read yet.
    pub arrived: Arrived,
    /// Address of buffer 0; buffer `i` is at `base + i * size` (engine-owned memory).
    pub base: *const u8,
    /// Size of one buffer.
    pub size: usize,
    /// Buffers the flow used up, for the engine to give back (preallocated).
    pub recycle: Vec<u16>,
    /// End of stream seen.
    pub eof: bool,
    /// The flow found nothing to read: the engine keeps a multishot receive armed.
    pub wanted: bool,
}

/// What [`Port::read_lent`] returns: bytes in the caller's buffer, or lent from a ring buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunk {
    /// This many bytes at the start of the caller's buffer.
    InBuf(usize),
    /// Bytes in engine memory, valid until the flow's step ends.
    Lent(*const u8, usize),
}

/// The submitted-I/O state of one connection.
#[derive(Debug)]
pub struct Port {
    /// The read direction (unused with provided buffers).
    pub read: Op,
    /// The write direction, for writes larger than the slot.
    pub write: Op,
    /// The small-write slot's state.
    pub slot: Slot,
    slot_buf: Box<[u8]>,
    /// A failed slot send or receive (negative errno), reported to the flow's next call.
    pub error: Option<i32>,
    /// Provided-buffer receive, when the engine uses it.
    pub lent: Option<Lent>,
    /// A small write found the slot busy: the flow waits for the slot's completion.
    pub slot_refused: bool,
    /// Zero-copy sends (`--zerocopy send`): large writes go out as IORING_OP_SEND_ZC.
    pub zc: Option<ZcSends>,
    datagram: bool,
}

/// A port's zero-copy sends: a large write completes for the flow only once the kernel's
/// notification says it let go of the buffer, and what each notification said is counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ZcSends {
    /// The send's result, kept from its first completion until its notification.
    pub awaiting: Option<i32>,
    /// What the kernel reported doing so far.
    pub counts: ZeroCopyCounts,
}

// SAFETY: `Lent::base` points into memory owned by the engine that installed the port, on the
// thread that uses it; ports never leave that thread's table while it drives.
unsafe impl Send for Port {}

fn contract(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{what} called with another buffer while one is submitted (a flow must retry a \
             read or write that would block with the same buffer)"
        ),
    )
}

fn result(res: i32) -> io::Result<usize> {
    if res < 0 {
        Err(io::Error::from_raw_os_error(-res))
    } else {
        Ok(res as usize)
    }
}

/// A call on `op` with the buffer (`ptr`, `len`): requests it, waits for it, or returns its
/// result; another buffer while one is outstanding is refused.
fn call(op: &mut Op, ptr: usize, len: usize, what: &str) -> io::Result<usize> {
    match *op {
        Op::Idle => {
            *op = Op::Requested { ptr, len };
            Err(io::ErrorKind::WouldBlock.into())
        }
        Op::Requested { ptr: p, len: l } | Op::InFlight { ptr: p, len: l }
            if (p, l) == (ptr, len) =>
        {
            Err(io::ErrorKind::WouldBlock.into())
        }
        Op::Done {
            ptr: p,
            len: l,
            res,
        } if (p, l) == (ptr, len) => {
            *op = Op::Idle;
            result(res)
        }
        _ => Err(contract(what)),
    }
}

impl Port {
    /// A port for a connection; `datagram` when each read takes one whole message.
    pub fn new(datagram: bool) -> Port {
        Port {
            read: Op::Idle,
            write: Op::Idle,
            slot: Slot::Free,
            slot_buf: vec![0; SLOT_BYTES].into_boxed_slice(),
            error: None,
            lent: None,
            slot_refused: false,
            zc: None,
            datagram,
        }
    }

    /// The slot's bytes `from..to`, to submit (at a stable address while the port lives).
    pub fn slot_bytes(&self, from: usize, to: usize) -> &[u8] {
        &self.slot_buf[from..to]
    }

    /// `read(2)` semantics over submitted I/O.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.read_lent(buf)? {
            Chunk::InBuf(n) => Ok(n),
            Chunk::Lent(ptr, n) => {
                let n = n.min(buf.len());
                // SAFETY: `ptr` points at `n` received bytes in engine memory (see read_lent).
                buf[..n].copy_from_slice(unsafe { std::slice::from_raw_parts(ptr, n) });
                Ok(n)
            }
        }
    }

    /// Like [`Port::read`], but with provided buffers the bytes stay where the kernel put them
    /// (a datagram whole, a stream up to `buf.len()`); the engine gives the buffer back after
    /// the flow's step.
    pub fn read_lent(&mut self, buf: &mut [u8]) -> io::Result<Chunk> {
        if let Some(e) = self.error.take() {
            return result(e).map(Chunk::InBuf);
        }
        let datagram = self.datagram;
        if let Some(lent) = self.lent.as_mut() {
            let Some((bid, off, avail)) = lent.arrived.front() else {
                lent.wanted = !lent.eof;
                return if lent.eof {
                    Ok(Chunk::InBuf(0))
                } else {
                    Err(io::ErrorKind::WouldBlock.into())
                };
            };
            // A datagram read takes the whole datagram (recv would discard the rest).
            let n = if datagram {
                avail as usize
            } else {
                buf.len().min(avail as usize)
            };
            if let Some(done) = lent.arrived.consume(n as u32) {
                lent.recycle.push(done);
            }
            // SAFETY: the kernel wrote `avail` bytes at `off` in buffer `bid` of the engine's
            // buffer memory, which holds at least `bid + 1` buffers of `size` bytes.
            let ptr = unsafe { lent.base.add(bid as usize * lent.size + off as usize) };
            return Ok(Chunk::Lent(ptr, n));
        }
        let (ptr, len) = (buf.as_mut_ptr() as usize, buf.len());
        call(&mut self.read, ptr, len, "read").map(Chunk::InBuf)
    }

    /// `send(2)` semantics over submitted I/O.
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(e) = self.error.take() {
            return result(e);
        }
        let (ptr, len) = (buf.as_ptr() as usize, buf.len());
        if len == 0 {
            return Ok(0);
        }
        // A new write waits for the slot's send, large ones too: submitted beside it, a
        // large send could overtake the slot's bytes on a stream socket.
        if self.write == Op::Idle && self.slot != Slot::Free {
            self.slot_refused = true;
            return Err(io::ErrorKind::WouldBlock.into());
        }
        if self.write == Op::Idle && len <= SLOT_BYTES {
            self.slot_buf[..len].copy_from_slice(buf);
            if let Some(zc) = self.zc.as_mut() {
                // Small writes are copied into the slot and sent plainly, zero-copy or not.
                zc.counts.copied_bytes += len as u64;
            }
            self.slot = Slot::Queued { len, sent: 0 };
            return Ok(len);
        }
        call(&mut self.write, ptr, len, "write")
    }

    /// Engine: the slot's send completed with `res` (bytes or -errno). Returns true when the
    /// rest is queued again (a short send on a stream socket).
    pub fn slot_completed(&mut self, res: i32) -> bool {
        let Slot::InFlight { len, sent } = self.slot else {
            return false;
        };
        self.slot_refused = false;
        if res <= 0 {
            // 0 from a stream socket cannot happen for a non-empty send; treat it as reset.
            self.error = Some(if res < 0 { res } else { -libc::ECONNRESET });
            self.slot = Slot::Free;
            return false;
        }
        let sent = sent + res as usize;
        if sent < len {
            self.slot = Slot::Queued { len, sent };
            true
        } else {
            self.slot = Slot::Free;
            false
        }
    }

    /// Engine: the read completed.
    pub fn read_completed(&mut self, res: i32) {
        if let Op::InFlight { ptr, len } = self.read {
            self.read = Op::Done { ptr, len, res };
        }
    }

    /// Engine: the large write completed.
    pub fn write_completed(&mut self, res: i32) {
        if let Op::InFlight { ptr, len } = self.write {
            self.write = Op::Done { ptr, len, res };
        }
    }

    /// Engine: a zero-copy send's first completion (`res`); `more` when a notification
    /// follows, and until then the flow's buffer stays lent. Without one the send failed
    /// before it lent anything (or the kernel said nothing: counted unnotified).
    pub fn zc_sent(&mut self, res: i32, more: bool) {
        let Some(zc) = self.zc.as_mut() else {
            return self.write_completed(res);
        };
        if more {
            zc.awaiting = Some(res);
            return;
        }
        if res > 0 {
            zc.counts.unnotified_bytes += res as u64;
        }
        self.write_completed(res);
    }

    /// Engine: the notification of the zero-copy send in flight; `copied` when the kernel
    /// copied the bytes after all (IORING_NOTIF_USAGE_ZC_COPIED). The write completes now.
    pub fn zc_notified(&mut self, copied: bool) {
        let Some(zc) = self.zc.as_mut() else {
            return;
        };
        let Some(res) = zc.awaiting.take() else {
            return;
        };
        zc.counts.notifications += 1;
        let bytes = res.max(0) as u64;
        match copied {
            true => zc.counts.copied_bytes += bytes,
            false => zc.counts.zerocopy_bytes += bytes,
        }
        self.write_completed(res);
    }

    /// True while the kernel may still touch memory this port points at (the flows' buffers or
    /// the slot).
    pub fn busy(&self) -> bool {
        matches!(self.read, Op::InFlight { .. })
            || matches!(self.write, Op::InFlight { .. })
            || matches!(self.slot, Slot::InFlight { .. })
    }
}

/// Names a port in the table of the thread whose engine made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortKey {
    generation: u64,
    index: usize,
}

/// The ports of the drive running on this thread.
struct Table {
    generation: u64,
    ports: Vec<Port>,
}

/// Process-wide, so a key is never valid in another drive or on another thread.
static NEXT_GENERATION: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static PORTS: RefCell<Table> = const {
        RefCell::new(Table { generation: 0, ports: Vec::new() })
    };
}

/// Engine: makes `ports` this thread's table; returns their keys, in order.
pub fn install(ports: Vec<Port>) -> Vec<PortKey> {
    let generation = NEXT_GENERATION.fetch_add(1, Ordering::Relaxed);
    let keys = (0..ports.len())
        .map(|index| PortKey { generation, index })
        .collect();
    PORTS.with_borrow_mut(|t| *t = Table { generation, ports });
    keys
}

/// Engine: the key of port `index` of this thread's table, if it has one.
pub fn key(index: usize) -> Option<PortKey> {
    PORTS.with_borrow(|t| {
        (t.generation != 0 && index < t.ports.len()).then_some(PortKey {
            generation: t.generation,
            index,
        })
    })
}

/// Engine: runs `f` on this thread's ports (never while a flow runs).
pub fn with_ports<R>(f: impl FnOnce(&mut [Port]) -> R) -> R {
    PORTS.with_borrow_mut(|t| f(&mut t.ports))
}

/// Engine: empties this thread's table (every key in use stops working) and returns the ports.
pub fn uninstall() -> Vec<Port> {
    PORTS.with_borrow_mut(|t| {
        t.generation = 0;
        std::mem::take(&mut t.ports)
    })
}

/// Runs `f` on the port `key` names, or fails when that drive is over or on another thread.
pub(super) fn with_port<R>(
    key: PortKey,
    f: impl FnOnce(&mut Port) -> io::Result<R>,
) -> io::Result<R> {
    PORTS.with(|t| {
        let mut t = t
            .try_borrow_mut()
            .map_err(|_| io::Error::other("a connection's I/O re-entered its engine"))?;
        if t.generation != key.generation {
            return Err(io::Error::other(
                "this connection was attached to an io_uring engine that is no longer driving it",
            ));
        }
        f(&mut t.ports[key.index])
    })
}

#[cfg(test)]
mod tests;
