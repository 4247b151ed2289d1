//! A connected endpoint ([`Conn`]) as engines and workloads see it: `read`/`write` that report
//! `WouldBlock` and `Interrupted` instead of retrying (engines decide what waiting means), on a
//! file descriptor or, for `shm`, on a user-space ring; and the [`Connector`] every transport
//! implements.
//!
//! A completion engine (io_uring) attaches a [`port`](super::port) to the connection while it
//! drives it: `read`/`write` then become submitted operations (see the contract there). Every
//! other engine leaves it unattached, which costs one predictable branch per call.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::Duration;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::port::{self, Chunk, PortKey};
use super::ring::ShmEnd;
use crate::metrics::counters::ZeroCopyCounts;

/// Facts about one connected endpoint, recorded with the result.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ConnInfo {
    /// Local address (`127.0.0.1:41234`, `@name`), when it has one.
    pub local: Option<String>,
    /// Peer address, when it has one.
    pub peer: Option<String>,
    /// SO_SNDBUF as the kernel reports it (it doubles what was asked), or the pipe/ring size.
    pub sndbuf: Option<usize>,
    /// SO_RCVBUF as the kernel reports it.
    pub rcvbuf: Option<usize>,
}

enum Endpoint {
    /// A socket (one fd both ways) or a pipe pair (read fd, write fd).
    Fd {
        read: OwnedFd,
        write: Option<OwnedFd>,
        socket: bool,
    },
    /// A shared-memory ring end.
    Shm(ShmEnd),
}

/// One connected endpoint.
pub struct Conn {
    endpoint: Endpoint,
    read_fd: RawFd,
    write_fd: RawFd,
    id: u64,
    nonblocking: bool,
    port: Option<PortKey>,
    /// Facts recorded with the result.
    pub info: ConnInfo,
}

/// Source of [`Conn::id`]: unique per process, so an engine can tell a replaced connection from
/// the old one even when the kernel reuses the fd number.
static NEXT_CONN_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn next_conn_id() -> u64 {
    NEXT_CONN_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Converts a raw syscall return into `io::Result`, without retrying on EINTR.
fn cvt(ret: isize) -> io::Result<usize> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}

impl Conn {
    /// A connection over a socket.
    pub fn socket(fd: OwnedFd, info: ConnInfo) -> Conn {
        let raw = fd.as_raw_fd();
        Conn {
            endpoint: Endpoint::Fd {
                read: fd,
                write: None,
                socket: true,
            },
            read_fd: raw,
            write_fd: raw,
            id: next_conn_id(),
            nonblocking: false,
            port: None,
            info,
        }
    }

    /// A connection over a socket already in the given blocking mode.
    pub fn socket_in_mode(fd: OwnedFd, info: ConnInfo, nonblocking: bool) -> Conn {
        let mut conn = Conn::socket(fd, info);
        conn.nonblocking = nonblocking;
        conn
    }

    /// A connection over two pipe ends.
    pub fn pipe(read: OwnedFd, write: OwnedFd, info: ConnInfo) -> Conn {
        let (r, w) = (read.as_raw_fd(), write.as_raw_fd());
        Conn {
            endpoint: Endpoint::Fd {
                read,
                write: Some(write),
                socket: false,
            },
            read_fd: r,
            write_fd: w,
            id: next_conn_id(),
            nonblocking: false,
            port: None,
            info,
        }
    }

    /// A connection over a shared-memory ring.
    pub fn shm(end: ShmEnd, info: ConnInfo) -> Conn {
        Conn {
            endpoint: Endpoint::Shm(end),
            read_fd: -1,
            write_fd: -1,
            id: next_conn_id(),
            nonblocking: false,
            port: None,
            info,
        }
    }

    /// Reads what is available, up to `buf.len()`. `Ok(0)` is end of stream. Never retries.
    #[inline]
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(key) = self.port {
            return port::with_port(key, |p| p.read(buf));
        }
        match &mut self.endpoint {
            // SAFETY: `buf` is valid for `buf.len()` writable bytes; `read_fd` is open while
            // `self` owns it.
            Endpoint::Fd { .. } => {
                cvt(unsafe { libc::read(self.read_fd, buf.as_mut_ptr().cast(), buf.len()) })
            }
            Endpoint::Shm(end) => end.read(buf),
        }
    }

    /// Like [`Conn::read`], but a completion engine with provided buffers may lend the bytes
    /// where the kernel put them instead of copying them into `buf` (a receiver that only
    /// counts avoids a copy); the slice is valid until the next call on this connection.
    #[inline]
    pub fn read_lent<'a>(&'a mut self, buf: &'a mut [u8]) -> io::Result<&'a [u8]> {
        let Some(key) = self.port else {
            let n = self.read(buf)?;
            return Ok(&buf[..n]);
        };
        match port::with_port(key, |p| p.read_lent(buf))? {
            Chunk::InBuf(n) => Ok(&buf[..n]),
            // SAFETY: the bytes are in the attached engine's buffer memory, which it gives back
            // to the kernel only after the flow's step, and frees only after its drive; the
            // returned borrow of `self` ends within the step.
            Chunk::Lent(ptr, n) => Ok(unsafe { std::slice::from_raw_parts(ptr, n) }),
        }
    }

    /// Writes what fits, up to `buf.len()`. Never retries; never raises SIGPIPE.
    #[inline]
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(key) = self.port {
            return port::with_port(key, |p| p.write(buf));
        }
        match &mut self.endpoint {
            // SAFETY: `buf` is valid for `buf.len()` readable bytes; the fd is owned by `self`.
            Endpoint::Fd { socket: true, .. } => cvt(unsafe {
                libc::send(
                    self.write_fd,
                    buf.as_ptr().cast(),
                    buf.len(),
                    libc::MSG_NOSIGNAL,
                )
            }),
            // SAFETY: as above; a pipe write to a closed reader returns EPIPE because the Rust
            // runtime ignores SIGPIPE (and `ignore_sigpipe` does so for library users).
            Endpoint::Fd { socket: false, .. } => {
                cvt(unsafe { libc::write(self.write_fd, buf.as_ptr().cast(), buf.len()) })
            }
            Endpoint::Shm(end) => end.write(buf),
        }
    }

    /// The fd to wait on for readability, or `None` for shm.
    pub fn read_fd(&self) -> Option<RawFd> {
        (self.read_fd >= 0).then_some(self.read_fd)
    }

    /// The fd to wait on for writability, or `None` for shm.
    pub fn write_fd(&self) -> Option<RawFd> {
        (self.write_fd >= 0).then_some(self.write_fd)
    }

    /// Routes `read`/`write` through the port `key` names until [`Conn::detach_port`] (the
    /// io_uring engine, while it drives this connection).
    pub fn attach_port(&mut self, key: PortKey) {
        self.port = Some(key);
    }

    /// Back to plain system calls.
    pub fn detach_port(&mut self) {
        self.port = None;
    }

    /// Asks the attached completion engine to send large writes zero-copy (io_uring's
    /// SEND_ZC, `--zerocopy send`); false when no engine is attached (the flow then calls the
    /// kernel itself).
    pub fn send_zerocopy(&mut self) -> io::Result<bool> {
        let Some(key) = self.port else {
            return Ok(false);
        };
        port::with_port(key, |p| {
            p.zc.get_or_insert_default();
            Ok(true)
        })
    }

    /// What the attached engine's zero-copy sends reported so far (see
    /// [`Conn::send_zerocopy`]); `None` without an engine or zero-copy sends.
    pub fn zerocopy_counts(&self) -> Option<ZeroCopyCounts> {
        let key = self.port?;
        port::with_port(key, |p| Ok(p.zc.map(|z| z.counts)))
            .ok()
            .flatten()
    }

    /// A process-unique id: a replaced connection always has another id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// True after `set_nonblocking(true)`; connections a flow creates follow the same mode.
    pub fn is_nonblocking(&self) -> bool {
        self.nonblocking
    }

    /// Accepts a connection on a listening socket, in this socket's blocking mode. Never retries.
    pub fn accept(&mut self) -> io::Result<Conn> {
        let flags = libc::SOCK_CLOEXEC
            | if self.nonblocking {
                libc::SOCK_NONBLOCK
            } else {
                0
            };
        // SAFETY: accept4 with null address pointers only returns a new fd; `read_fd` is owned.
        let fd = unsafe {
            libc::accept4(
                self.read_fd,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                flags,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: accept4 returned a new descriptor that nothing else owns.
        let owned = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
        Ok(Conn::socket_in_mode(
            owned,
            ConnInfo::default(),
            self.nonblocking,
        ))
    }

    /// Switches between blocking and non-blocking operation.
    pub fn set_nonblocking(&mut self, nonblocking: bool) -> io::Result<()> {
        self.nonblocking = nonblocking;
        match &mut self.endpoint {
            Endpoint::Fd { read, write, .. } => {
                set_fd_nonblocking(read.as_raw_fd(), nonblocking)?;
                if let Some(w) = write {
                    set_fd_nonblocking(w.as_raw_fd(), nonblocking)?;
                }
                Ok(())
            }
            Endpoint::Shm(end) => {
                end.set_nonblocking(nonblocking);
                Ok(())
            }
        }
    }

    /// Bounds how long one blocking read or write may sleep before it returns `WouldBlock`
    /// (SO_RCVTIMEO/SO_SNDTIMEO; the futex timeout for shm). Pipes have no such option and rely on
    /// the runner's watchdog signal; returns false for them.
    pub fn set_wait_tick(&mut self, tick: Duration) -> io::Result<bool> {
        match &mut self.endpoint {
            Endpoint::Fd {
                read, socket: true, ..
            } => {
                let sock = socket2::SockRef::from(&*read);
                sock.set_read_timeout(Some(tick))?;
                sock.set_write_timeout(Some(tick))?;
                Ok(true)
            }
            Endpoint::Fd { socket: false, .. } => Ok(false),
            Endpoint::Shm(end) => {
                end.set_wait_tick(tick);
                Ok(true)
            }
        }
    }
}

fn set_fd_nonblocking(fd: RawFd, nonblocking: bool) -> io::Result<()> {
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    // SAFETY: callers pass an fd owned by a live Conn.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let flags = OFlag::from_bits_truncate(fcntl(borrowed, FcntlArg::F_GETFL)?);
    let flags = if nonblocking {
        flags | OFlag::O_NONBLOCK
    } else {
        flags & !OFlag::O_NONBLOCK
    };
    fcntl(borrowed, FcntlArg::F_SETFL(flags))?;
    Ok(())
}

/// Builds connected pairs for one case; created per iteration so every iteration starts clean.
pub trait Connector: Send {
    /// One connected (client, server) pair.
    fn pair(&mut self) -> Result<(Conn, Conn)>;
}

/// Makes sure a write to a closed pipe returns EPIPE instead of killing the process (the Rust
/// runtime already does this for binaries; library users may not have).
pub fn ignore_sigpipe() {
    use nix::sys::signal::{SigHandler, Signal, signal};
    // SAFETY: SIG_IGN is async-signal-safe and installing it has no other effect.
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigIgn) };
}
