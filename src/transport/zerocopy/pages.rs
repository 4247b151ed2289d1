//! Page-moving sends: vmsplice (user pages into a pipe), splice (pipe to socket), sendfile
//! (page-cache pages of a memfd to a socket). None of them reports what it did: the kernel
//! references the pages instead of copying them by construction, and gives no completion, so
//! a sender may not rewrite a buffer it vmspliced until the reader is known to be done (a
//! benchmark with a constant payload is safe; a real application needs its own protocol).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

fn cvt(r: isize) -> io::Result<usize> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r as usize)
    }
}

/// vmsplice(2): lends `buf`'s pages to the pipe `pipe_w`; returns bytes taken.
pub fn vmsplice(pipe_w: RawFd, buf: &[u8]) -> io::Result<usize> {
    let iov = libc::iovec {
        iov_base: buf.as_ptr() as *mut _,
        iov_len: buf.len(),
    };
    // SAFETY: one iovec over a live buffer; no SPLICE_F_GIFT, so the pages stay ours.
    cvt(unsafe { libc::vmsplice(pipe_w, &iov, 1, 0) })
}

/// splice(2) from a pipe to a socket (or any fd), up to `len` bytes.
pub fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    // SAFETY: null offsets: both ends use their own positions (pipes and sockets have none).
    cvt(unsafe {
        libc::splice(
            from,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            len,
            libc::SPLICE_F_MOVE | libc::SPLICE_F_MORE,
        )
    })
}

/// sendfile(2) of `len` bytes at `offset` of `file` to `sock`.
pub fn sendfile(sock: RawFd, file: RawFd, offset: u64, len: usize) -> io::Result<usize> {
    let mut off = offset as libc::off_t;
    // SAFETY: `off` is a valid in/out offset.
    cvt(unsafe { libc::sendfile(sock, file, &mut off, len) })
}

/// A memfd holding `content` (the page cache pages sendfile sends).
pub fn memfd_with(content: &[u8]) -> io::Result<OwnedFd> {
    // SAFETY: a static NUL-terminated name.
    let fd = unsafe { libc::memfd_create(c"lb-sendfile".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a new descriptor nothing else owns.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut off = 0;
    while off < content.len() {
        // SAFETY: writes from a live buffer.
        off += cvt(unsafe {
            libc::write(
                owned.as_raw_fd(),
                content[off..].as_ptr().cast(),
                content.len() - off,
            )
        })?;
    }
    Ok(owned)
}

/// A pipe of `size` bytes (F_SETPIPE_SZ), (read, write).
pub fn pipe_of(size: usize) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: two new descriptors nothing else owns.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    set_pipe_size(w.as_raw_fd(), size)?;
    Ok((r, w))
}

/// F_SETPIPE_SZ; the kernel rounds up to a power-of-two number of pages.
pub fn set_pipe_size(fd: RawFd, size: usize) -> io::Result<()> {
    // SAFETY: fcntl on a pipe fd.
    if unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, size as libc::c_int) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
