//! Waiting on a file descriptor with a deadline, and telling "try again" errors from "the peer
//! is gone" ones: what every engine and workload needs from a connection beyond read and write.

use std::io;
use std::os::fd::RawFd;

/// What to wait for on a file descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interest {
    /// Readable.
    Read,
    /// Writable.
    Write,
}

/// Sleeps in ppoll(2) until `fd` is ready for `wait`, `until_ns` (CLOCK_MONOTONIC) passes, or a
/// signal (the watchdog's kick) arrives. Used for timed flows by engines that otherwise block in
/// read/write. Nanosecond timeout; the worker sets its timer slack to 1 ns.
pub fn wait_fd(fd: RawFd, interest: Interest, until_ns: Option<u64>) -> io::Result<()> {
    let events = match interest {
        Interest::Read => libc::POLLIN,
        Interest::Write => libc::POLLOUT,
    };
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    let timeout = until_ns.map(|t| {
        let left = t.saturating_sub(crate::metrics::clock::monotonic_ns());
        libc::timespec {
            tv_sec: (left / 1_000_000_000) as libc::time_t,
            tv_nsec: (left % 1_000_000_000) as libc::c_long,
        }
    });
    let ts = timeout
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `pfd` is one valid pollfd on this frame; `ts` is null or points to a timespec on
    // this frame; a null sigmask keeps the thread's mask.
    let ret = unsafe { libc::ppoll(&mut pfd, 1, ts, std::ptr::null()) };
    if ret < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(())
}

/// True for the errors that mean "try again later" rather than failure.
#[inline]
pub fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

/// True for the errors that mean the peer has gone away.
pub fn is_disconnect(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::NotConnected
    )
}
