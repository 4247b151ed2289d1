//! MSG_ZEROCOPY on a socket: turning it on, sending, and reaping the completion notifications
//! from the socket's error queue into a [`ZcLedger`].

use std::io;
use std::os::fd::RawFd;

use super::ledger::ZcLedger;

/// `SO_EE_ORIGIN_ZEROCOPY` (linux/errqueue.h).
pub const SO_EE_ORIGIN_ZEROCOPY: u8 = 5;
/// `SO_EE_CODE_ZEROCOPY_COPIED`: the kernel copied the data after all.
pub const SO_EE_CODE_ZEROCOPY_COPIED: u8 = 1;

/// One notification: ids `lo..=hi`, copied or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Notification {
    /// First send id.
    pub lo: u32,
    /// Last send id (inclusive).
    pub hi: u32,
    /// `SO_EE_CODE_ZEROCOPY_COPIED` was set.
    pub copied: bool,
}

/// Reads a zero-copy notification out of an extended error, if it is one.
pub fn parse(ee: &libc::sock_extended_err) -> Option<Notification> {
    if ee.ee_origin != SO_EE_ORIGIN_ZEROCOPY || ee.ee_errno != 0 {
        return None;
    }
    Some(Notification {
        lo: ee.ee_info,
        hi: ee.ee_data,
        copied: ee.ee_code & SO_EE_CODE_ZEROCOPY_COPIED != 0,
    })
}

/// Sets SO_ZEROCOPY on `fd` (needed before `send(MSG_ZEROCOPY)` is honoured).
pub fn enable(fd: RawFd) -> io::Result<()> {
    let one: libc::c_int = 1;
    // SAFETY: setsockopt reads one c_int from a valid pointer.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ZEROCOPY,
            (&one as *const libc::c_int).cast(),
            4,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Reads every queued notification into `ledger`; returns how many were read. Never blocks.
pub fn reap(fd: RawFd, ledger: &mut ZcLedger) -> io::Result<usize> {
    let mut n = 0;
    loop {
        // Room for one cmsg carrying a sock_extended_err plus its offender address.
        let mut control = [0u64; 16];
        // SAFETY: an all-zero msghdr is valid; only the control buffer is set.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control);
        // SAFETY: `msg` points at a live control buffer of the size given.
        let r = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT) };
        if r < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::WouldBlock {
                Ok(n)
            } else {
                Err(e)
            };
        }
        // SAFETY: CMSG_* walk the control buffer the kernel just filled, bounded by
        // msg_controllen.
        let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(&msg) };
        while !cmsg.is_null() {
            let c = unsafe { &*cmsg };
            let recverr = (c.cmsg_level == libc::SOL_IP && c.cmsg_type == libc::IP_RECVERR)
                || (c.cmsg_level == libc::SOL_IPV6 && c.cmsg_type == libc::IPV6_RECVERR);
            if recverr {
                // SAFETY: an IP(V6)_RECVERR cmsg carries a sock_extended_err (maybe unaligned).
                let ee = unsafe {
                    std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const libc::sock_extended_err)
                };
                if let Some(note) = parse(&ee) {
                    ledger
                        .notified(note.lo, note.hi, note.copied)
                        .map_err(io::Error::other)?;
                    n += 1;
                }
            }
            cmsg = unsafe { libc::CMSG_NXTHDR(&msg, cmsg) };
        }
    }
}

/// Sleeps until `fd` has something on its error queue (POLLERR), at most `ms`.
pub fn wait(fd: RawFd, ms: i32) -> io::Result<()> {
    let mut p = libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    if unsafe { libc::poll(&mut p, 1, ms) } < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ee(origin: u8, code: u8, lo: u32, hi: u32) -> libc::sock_extended_err {
        libc::sock_extended_err {
            ee_errno: 0,
            ee_origin: origin,
            ee_type: 0,
            ee_code: code,
            ee_pad: 0,
            ee_info: lo,
            ee_data: hi,
        }
    }

    #[test]
    fn zerocopy_notifications_are_read_with_their_copied_flag() {
        assert_eq!(
            parse(&ee(5, 0, 3, 9)),
            Some(Notification {
                lo: 3,
                hi: 9,
                copied: false
            })
        );
        assert_eq!(
            parse(&ee(5, 1, 0, 0)),
            Some(Notification {
                lo: 0,
                hi: 0,
                copied: true
            })
        );
    }

    #[test]
    fn other_errors_on_the_queue_are_not_notifications() {
        assert_eq!(parse(&ee(2 /* SO_EE_ORIGIN_ICMP */, 0, 0, 0)), None);
        let mut e = ee(5, 0, 0, 0);
        e.ee_errno = libc::ECONNREFUSED as u32;
        assert_eq!(parse(&e), None);
    }
}
