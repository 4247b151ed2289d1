//! How a `stream` sender hands its chunk to the kernel under `--zerocopy`, and what the kernel
//! said it did with it ([`ZeroCopyCounts`]).

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use anyhow::{Context, Result};

use super::errqueue;
use super::ledger::ZcLedger;
use super::pages::{memfd_with, pipe_of, sendfile, splice, vmsplice};
use crate::metrics::clock::monotonic_ns;
use crate::metrics::counters::ZeroCopyCounts;
use crate::spec::{Transport, ZeroCopy};

/// Send buffers MSG_ZEROCOPY rotates through: room for what a socket may hold unacknowledged
/// (tcp_wmem's 4 MiB maximum, twice), at least 4 and at most 256 chunks.
fn zerocopy_slots(chunk: usize) -> usize {
    ((8 << 20) / chunk.max(1)).clamp(4, 256)
}

/// The sender of one `stream` client for a [`ZeroCopy`] mode.
pub enum Sender {
    /// write(2) through the connection: the kernel copies.
    Copy,
    /// send(MSG_ZEROCOPY) from one of `slots` copies of the chunk; a slot is written again
    /// only once its notification arrived.
    MsgZerocopy {
        /// Copies of the chunk, lent to the kernel in turn.
        slots: Vec<Vec<u8>>,
        /// The slot the chunk in progress is sent from.
        current: usize,
        /// Sends not yet notified, and what the notifications said.
        ledger: ZcLedger,
        /// Sends refused with ENOBUFS (notifications filled optmem) and retried.
        enobufs: u64,
    },
    /// sendfile(2) from a memfd holding the chunk.
    Sendfile {
        /// The memfd.
        file: OwnedFd,
        /// Bytes sent so far.
        bytes: u64,
    },
    /// vmsplice(2) of the chunk into a private pipe, splice(2) from it to the socket.
    SpliceVia {
        /// Read end of the private pipe.
        r: OwnedFd,
        /// Write end of the private pipe.
        w: OwnedFd,
        /// Bytes of the chunk sitting in the pipe (the next bytes after the caller's offset).
        in_pipe: usize,
        /// Bytes spliced so far.
        bytes: u64,
    },
    /// vmsplice(2) of the chunk straight into the transport's pipe.
    Vmsplice {
        /// Bytes vmspliced so far.
        bytes: u64,
    },
}

impl Sender {
    /// The sender for `mode` over `transport`, on the connection's write descriptor `fd`.
    pub fn open(mode: ZeroCopy, transport: Transport, fd: RawFd, chunk: &[u8]) -> Result<Sender> {
        Ok(match mode {
            ZeroCopy::Copy | ZeroCopy::Recv => Sender::Copy,
            ZeroCopy::Send | ZeroCopy::SendRecv => {
                errqueue::enable(fd).context("setsockopt(SO_ZEROCOPY) for --zerocopy send")?;
                let n = zerocopy_slots(chunk.len());
                Sender::MsgZerocopy {
                    slots: vec![chunk.to_vec(); n],
                    current: n - 1,
                    ledger: ZcLedger::new(n),
                    enobufs: 0,
                }
            }
            ZeroCopy::Sendfile => Sender::Sendfile {
                file: memfd_with(chunk)
                    .context("a memfd holding the chunk for --zerocopy sendfile")?,
                bytes: 0,
            },
            ZeroCopy::Splice if transport == Transport::Pipe => Sender::Vmsplice { bytes: 0 },
            ZeroCopy::Splice => {
                let (r, w) = pipe_of(chunk.len().clamp(64 << 10, 1 << 20)).context(
                    "a private pipe for --zerocopy splice (its size is capped by fs.pipe-max-size)",
                )?;
                Sender::SpliceVia {
                    r,
                    w,
                    in_pipe: 0,
                    bytes: 0,
                }
            }
        })
    }

    /// True for plain write(2) through the connection.
    pub fn is_copy(&self) -> bool {
        matches!(self, Sender::Copy)
    }

    /// Sends from `chunk[offset..]` on `fd`; returns the bytes the kernel took. `WouldBlock`
    /// when MSG_ZEROCOPY has every slot lent and no notification came: within 100 ms when
    /// `may_sleep` (a blocking engine), at once otherwise (a non-blocking engine waits on the
    /// socket, whose error queue wakes epoll, or spins).
    pub fn send(
        &mut self,
        fd: RawFd,
        chunk: &[u8],
        offset: usize,
        may_sleep: bool,
    ) -> io::Result<usize> {
        match self {
            Sender::Copy => Err(io::Error::other(
                "the copy path writes through the connection",
            )),
            Sender::MsgZerocopy {
                slots,
                current,
                ledger,
                enobufs,
            } => {
                if offset == 0 {
                    let next = (*current + 1) % slots.len();
                    if ledger.is_lent(next) {
                        reap_or_wait(fd, ledger, may_sleep)?;
                        if ledger.is_lent(next) {
                            return Err(io::ErrorKind::WouldBlock.into());
                        }
                    }
                    *current = next;
                }
                let buf = &slots[*current][offset..];
                // SAFETY: a live buffer of the length given; the slot is not written again
                // until the kernel's notification for this send arrived (the ledger says so).
                let n = unsafe {
                    libc::send(
                        fd,
                        buf.as_ptr().cast(),
                        buf.len(),
                        libc::MSG_ZEROCOPY | libc::MSG_NOSIGNAL,
                    )
                };
                if n < 0 {
                    let e = io::Error::last_os_error();
                    if e.raw_os_error() == Some(libc::ENOBUFS) {
                        // optmem (net.core.optmem_max) is full of notifications: reap, retry.
                        *enobufs += 1;
                        reap_or_wait(fd, ledger, may_sleep)?;
                        return Err(io::ErrorKind::WouldBlock.into());
                    }
                    return Err(e);
                }
                if n > 0 {
                    ledger.sent(*current, n as usize);
                }
                Ok(n as usize)
            }
            Sender::Sendfile { file, bytes } => {
                let n = sendfile(fd, file.as_raw_fd(), offset as u64, chunk.len() - offset)?;
                *bytes += n as u64;
                Ok(n)
            }
            Sender::SpliceVia {
                r,
                w,
                in_pipe,
                bytes,
            } => {
                if *in_pipe == 0 {
                    *in_pipe = vmsplice(w.as_raw_fd(), &chunk[offset..])?;
                }
                let n = splice(r.as_raw_fd(), fd, *in_pipe)?;
                *in_pipe -= n;
                *bytes += n as u64;
                Ok(n)
            }
            Sender::Vmsplice { bytes } => {
                let n = vmsplice(fd, &chunk[offset..])?;
                *bytes += n as u64;
                Ok(n)
            }
        }
    }

    /// Waits (at most `within_ns`) for the notifications of every MSG_ZEROCOPY send, so the
    /// counts cover them; what never came is counted as unnotified.
    pub fn finish(&mut self, fd: RawFd, within_ns: u64) -> io::Result<()> {
        if let Sender::MsgZerocopy { ledger, .. } = self {
            let until = monotonic_ns() + within_ns;
            while ledger.outstanding() > 0 && monotonic_ns() < until {
                reap_or_wait(fd, ledger, true)?;
            }
        }
        Ok(())
    }

    /// What the kernel did with the bytes so far.
    pub fn counts(&self) -> ZeroCopyCounts {
        match self {
            Sender::Copy => ZeroCopyCounts::default(),
            Sender::MsgZerocopy {
                ledger, enobufs, ..
            } => {
                let s = ledger.stats();
                ZeroCopyCounts {
                    zerocopy_bytes: s.bytes_zerocopy,
                    copied_bytes: s.bytes_copied,
                    unnotified_bytes: ledger.outstanding_bytes(),
                    notifications: s.notifications,
                    enobufs: *enobufs,
                    ..ZeroCopyCounts::default()
                }
            }
            Sender::Sendfile { bytes, .. }
            | Sender::SpliceVia { bytes, .. }
            | Sender::Vmsplice { bytes } => ZeroCopyCounts {
                by_reference_bytes: *bytes,
                ..ZeroCopyCounts::default()
            },
        }
    }
}

/// Reads the notifications queued on `fd`; when there are none and it `may_sleep`, sleeps
/// until one arrives (at most 100 ms, or until a signal) and reads again. Returns how many
/// were read.
fn reap_or_wait(fd: RawFd, ledger: &mut ZcLedger, may_sleep: bool) -> io::Result<usize> {
    let n = errqueue::reap(fd, ledger)?;
    if n > 0 || !may_sleep {
        return Ok(n);
    }
    errqueue::wait(fd, 100)?;
    errqueue::reap(fd, ledger)
}
