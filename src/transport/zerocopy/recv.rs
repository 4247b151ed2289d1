//! TCP receive zero-copy (`TCP_ZEROCOPY_RECEIVE`): the receiver mmaps the socket and asks the
//! kernel to map received pages into that window instead of copying them.
//!
//! The kernel maps only whole pages that are page-aligned payload in skb frags, not compound
//! and not page-cache pages; everything else is reported in `recv_skip_hint` (or copied into
//! the optional copy buffer) and must be read with `recv`: that is the fallback, and the
//! receiver counts it. With loopback's 64 KiB MTU the MSS (65483 with timestamps) is not a
//! page multiple and a copying sender fills compound page frags, so expect mostly fallback.

use std::io;
use std::os::fd::RawFd;

use crate::metrics::counters::ZeroCopyCounts;
use crate::transport::wait::{Interest, wait_fd};

/// `TCP_ZEROCOPY_RECEIVE` (linux/tcp.h).
const TCP_ZEROCOPY_RECEIVE: libc::c_int = 35;

/// `struct tcp_zerocopy_receive` as of Linux 5.14+ (64 bytes).
#[repr(C)]
#[derive(Default)]
struct ZcReceive {
    address: u64,
    length: u32,
    recv_skip_hint: u32,
    inq: u32,
    err: i32,
    copybuf_address: u64,
    copybuf_len: i32,
    flags: u32,
    msg_control: u64,
    msg_controllen: u64,
    msg_flags: u32,
    reserved: u32,
}

/// A socket's mmap window for zero-copy receive, and what the kernel did so far.
pub struct ZcReceiver {
    fd: RawFd,
    window: *mut u8,
    window_len: usize,
    /// Below a page: the kernel copies a queue shorter than this in the same call (it would
    /// copy every queue up to this size, so a larger one would hide mappable data).
    copybuf: Vec<u8>,
    /// Bytes mapped into the window (no copy).
    mapped: u64,
    /// Bytes the kernel copied instead: into the copy buffer, or read with recv.
    copied: u64,
    /// TCP_ZEROCOPY_RECEIVE calls.
    calls: u64,
}

// SAFETY: the window is a mapping owned by this value.
unsafe impl Send for ZcReceiver {}

impl ZcReceiver {
    /// Maps a `window_len`-byte window (a page multiple) on TCP socket `fd`.
    pub fn new(fd: RawFd, window_len: usize) -> io::Result<ZcReceiver> {
        // SAFETY: mapping a TCP socket read-only shared is how TCP_ZEROCOPY_RECEIVE is used;
        // the kernel refuses other sockets with ENODEV.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                window_len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(ZcReceiver {
            fd,
            window: p.cast(),
            window_len,
            copybuf: vec![0; 4095],
            mapped: 0,
            copied: 0,
            calls: 0,
        })
    }

    /// Receives what is queued: returns bytes received (0: nothing queued, or end of stream
    /// when `eof` is then true). `scratch` takes the bytes that fall back to recv.
    pub fn receive(&mut self, scratch: &mut [u8]) -> io::Result<(usize, bool)> {
        // One call per wake-up; the struct is rebuilt each time because the kernel writes
        // its results into it.
        let mut zc = ZcReceive {
            address: self.window as u64,
            length: self.window_len as u32,
            copybuf_address: self.copybuf.as_mut_ptr() as u64,
            copybuf_len: self.copybuf.len() as i32,
            ..ZcReceive::default()
        };
        let mut len = std::mem::size_of::<ZcReceive>() as libc::socklen_t;
        // SAFETY: `zc` is a valid tcp_zerocopy_receive of the length given; the window and
        // the copy buffer are live.
        let r = unsafe {
            libc::getsockopt(
                self.fd,
                libc::IPPROTO_TCP,
                TCP_ZEROCOPY_RECEIVE,
                (&mut zc as *mut ZcReceive).cast(),
                &mut len,
            )
        };
        if r < 0 {
            let e = io::Error::last_os_error();
            // tcp_zerocopy_receive: nothing queued and the peer has closed.
            if e.raw_os_error() == Some(libc::EIO) {
                return Ok((0, true));
            }
            return Err(e);
        }
        self.calls += 1;
        if zc.err != 0 {
            return Err(io::Error::from_raw_os_error(zc.err.abs()));
        }
        let mut got = zc.length as usize;
        self.mapped += u64::from(zc.length);
        if zc.copybuf_len > 0 {
            got += zc.copybuf_len as usize;
            self.copied += zc.copybuf_len as u64;
        }
        let mut skip = zc.recv_skip_hint as usize;
        while skip > 0 {
            let want = skip.min(scratch.len());
            // SAFETY: `scratch` is valid for `want` bytes.
            let n = unsafe {
                libc::recv(
                    self.fd,
                    scratch.as_mut_ptr().cast(),
                    want,
                    libc::MSG_DONTWAIT,
                )
            };
            if n <= 0 {
                break;
            }
            skip -= n as usize;
            got += n as usize;
            self.copied += n as u64;
        }
        if got == 0 {
            // Nothing mapped, copied or to skip: nothing queued, the end of the stream, or
            // bytes the kernel neither maps nor hints at (read them, copied).
            // SAFETY: `scratch` is valid for its length.
            let n = unsafe {
                libc::recv(
                    self.fd,
                    scratch.as_mut_ptr().cast(),
                    scratch.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                return if e.kind() == io::ErrorKind::WouldBlock {
                    Ok((0, false))
                } else {
                    Err(e)
                };
            }
            self.copied += n as u64;
            return Ok((n as usize, n == 0));
        }
        Ok((got, false))
    }

    /// What the kernel did with the bytes received so far.
    pub fn counts(&self) -> ZeroCopyCounts {
        ZeroCopyCounts {
            zerocopy_bytes: self.mapped,
            copied_bytes: self.copied,
            zerocopy_receives: self.calls,
            ..ZeroCopyCounts::default()
        }
    }

    /// Sleeps until the socket is readable or a signal arrives (the watchdog's).
    pub fn wait(&self) -> io::Result<()> {
        match wait_fd(self.fd, Interest::Read, None) {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => Err(e),
            _ => Ok(()),
        }
    }
}

impl Drop for ZcReceiver {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the window mapped in `new`.
        unsafe { libc::munmap(self.window.cast(), self.window_len) };
    }
}
