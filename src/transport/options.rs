//! Socket options shared by the socket transports: buffer sizes (forced past the sysctl cap when
//! running as root), SO_BUSY_POLL, TCP_NODELAY, and what the kernel actually set.

use std::os::fd::AsRawFd;

use anyhow::{Context, Result};
use socket2::Socket;

use super::conn::ConnInfo;
use crate::spec::SocketOptions;

/// Reads a numeric sysctl such as `net/core/wmem_max`.
pub fn sysctl_usize(path: &str) -> Option<usize> {
    std::fs::read_to_string(format!("/proc/sys/{path}"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Sets an integer socket option (values above `c_int::MAX` are clamped to it).
pub fn set_int(
    sock: &Socket,
    level: libc::c_int,
    option: libc::c_int,
    value: impl TryInto<libc::c_int>,
) -> std::io::Result<()> {
    let value: libc::c_int = value.try_into().unwrap_or(libc::c_int::MAX);
    // SAFETY: `value` is a live c_int and its size is passed; the fd is owned by `sock`.
    let ret = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            level,
            option,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if ret == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// SO_SNDBUF/SO_RCVBUF as asked, resolved once: above net.core.{w,r}mem_max the kernel would
/// silently clamp, so as root the FORCE variants are used instead and the value asked for is the
/// value measured. Resolving reads the sysctls; applying is only the setsockopt calls (sockets
/// opened per transaction, as crr's, resolve once and apply many times). SO_BUSY_POLL rides
/// along: it is set on the same sockets (listeners pass it to the sockets they accept).
#[derive(Clone, Copy, Debug, Default)]
pub struct Buffers {
    send: Option<(libc::c_int, &'static str, usize)>,
    recv: Option<(libc::c_int, &'static str, usize)>,
    busy_poll_us: Option<u32>,
}

impl Buffers {
    /// The options `opts` asks for, on this machine.
    pub fn resolve(opts: &SocketOptions) -> Buffers {
        let pick = |bytes: usize, cap: &str, plain, forced, names: [&'static str; 2]| {
            if is_root() && sysctl_usize(cap).is_some_and(|cap| bytes > cap) {
                (forced, names[1], bytes)
            } else {
                (plain, names[0], bytes)
            }
        };
        Buffers {
            send: opts.sndbuf.map(|b| {
                pick(
                    b,
                    "net/core/wmem_max",
                    libc::SO_SNDBUF,
                    libc::SO_SNDBUFFORCE,
                    ["setting SO_SNDBUF (--sndbuf)", "setting SO_SNDBUFFORCE"],
                )
            }),
            recv: opts.rcvbuf.map(|b| {
                pick(
                    b,
                    "net/core/rmem_max",
                    libc::SO_RCVBUF,
                    libc::SO_RCVBUFFORCE,
                    ["setting SO_RCVBUF (--rcvbuf)", "setting SO_RCVBUFFORCE"],
                )
            }),
            busy_poll_us: opts.busy_poll_us,
        }
    }

    /// Sets them on `sock`.
    pub fn apply(&self, sock: &Socket) -> Result<()> {
        for (option, what, bytes) in self.send.iter().chain(&self.recv) {
            set_int(sock, libc::SOL_SOCKET, *option, *bytes).context(*what)?;
        }
        if let Some(us) = self.busy_poll_us {
            set_int(sock, libc::SOL_SOCKET, libc::SO_BUSY_POLL, us)
                .context("setting SO_BUSY_POLL (busy_poll_us; raising it needs CAP_NET_ADMIN)")?;
        }
        Ok(())
    }
}

/// Sets SO_SNDBUF/SO_RCVBUF as asked (see [`Buffers`]).
pub fn apply_buffers(sock: &Socket, opts: &SocketOptions) -> Result<()> {
    Buffers::resolve(opts).apply(sock)
}

/// TCP options of a connected socket: TCP_NODELAY, and TCP_NOTSENT_LOWAT when asked for.
pub fn apply_tcp(sock: &Socket, opts: &SocketOptions) -> Result<()> {
    sock.set_tcp_nodelay(opts.nodelay)
        .context("setting TCP_NODELAY")?;
    if let Some(bytes) = opts.notsent_lowat {
        set_int(sock, libc::IPPROTO_TCP, libc::TCP_NOTSENT_LOWAT, bytes)
            .context("setting TCP_NOTSENT_LOWAT")?;
    }
    Ok(())
}

/// Describes a socket: addresses and the buffer sizes the kernel reports.
pub fn info(sock: &Socket) -> ConnInfo {
    let show = |a: std::io::Result<socket2::SockAddr>| {
        a.ok().map(|a| match a.as_socket() {
            Some(sa) => sa.to_string(),
            None => unix_name(&a),
        })
    };
    ConnInfo {
        local: show(sock.local_addr()),
        peer: show(sock.peer_addr()),
        sndbuf: sock.send_buffer_size().ok(),
        rcvbuf: sock.recv_buffer_size().ok(),
    }
}

fn unix_name(addr: &socket2::SockAddr) -> String {
    if let Some(p) = addr.as_pathname() {
        return p.display().to_string();
    }
    if let Some(name) = addr.as_abstract_namespace() {
        return format!("@{}", String::from_utf8_lossy(name));
    }
    "(unnamed)".into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use socket2::{Domain, Type};

    #[test]
    fn buffer_sizes_are_applied_and_reported() {
        let sock = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        let opts = SocketOptions {
            sndbuf: Some(65536),
            rcvbuf: Some(131072),
            nodelay: true,
            notsent_lowat: None,
            busy_poll_us: None,
        };
        apply_buffers(&sock, &opts).unwrap();
        let i = info(&sock);
        // Linux doubles the value to account for bookkeeping overhead.
        assert_eq!(i.sndbuf, Some(131072));
        assert_eq!(i.rcvbuf, Some(262144));
    }

    #[test]
    fn tcp_notsent_lowat_is_applied() {
        let sock = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        let opts = SocketOptions {
            nodelay: true,
            notsent_lowat: Some(16384),
            ..Default::default()
        };
        apply_tcp(&sock, &opts).unwrap();
        let mut v: u32 = 0;
        let mut len = std::mem::size_of::<u32>() as libc::socklen_t;
        // SAFETY: `v` and `len` are live and sized for the option.
        let ret = unsafe {
            libc::getsockopt(
                sock.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_NOTSENT_LOWAT,
                (&mut v as *mut u32).cast(),
                &mut len,
            )
        };
        assert_eq!(ret, 0);
        assert_eq!(v, 16384);
        assert!(sock.tcp_nodelay().unwrap());
    }

    #[test]
    fn busy_poll_is_set_on_the_socket() {
        let sock = Socket::new(Domain::IPV4, Type::DGRAM, None).unwrap();
        // Lowering it below the socket's current value needs no privilege; 0 is the default, so
        // check the call succeeds and reads back.
        let opts = SocketOptions {
            busy_poll_us: Some(0),
            ..Default::default()
        };
        apply_buffers(&sock, &opts).unwrap();
        assert_eq!(get_int(&sock, libc::SOL_SOCKET, libc::SO_BUSY_POLL), 0);
    }

    #[test]
    #[ignore = "needs root: raising SO_BUSY_POLL needs CAP_NET_ADMIN"]
    fn busy_poll_is_raised_as_root() {
        let sock = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        let opts = SocketOptions {
            busy_poll_us: Some(50),
            ..Default::default()
        };
        apply_buffers(&sock, &opts).unwrap();
        assert_eq!(get_int(&sock, libc::SOL_SOCKET, libc::SO_BUSY_POLL), 50);
    }

    fn get_int(sock: &Socket, level: libc::c_int, option: libc::c_int) -> libc::c_int {
        let mut v: libc::c_int = -1;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `v` and `len` are live and sized for the option.
        let ret = unsafe {
            libc::getsockopt(
                sock.as_raw_fd(),
                level,
                option,
                (&mut v as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        assert_eq!(ret, 0, "{}", std::io::Error::last_os_error());
        v
    }

    #[test]
    #[ignore = "needs root: SO_SNDBUFFORCE/SO_RCVBUFFORCE need CAP_NET_ADMIN"]
    fn root_can_exceed_the_sysctl_cap() {
        assert!(is_root(), "needs root: SO_SNDBUFFORCE needs CAP_NET_ADMIN");
        let cap = sysctl_usize("net/core/wmem_max").unwrap();
        let sock = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        let want = cap * 4;
        apply_buffers(
            &sock,
            &SocketOptions {
                sndbuf: Some(want),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(info(&sock).sndbuf, Some(want * 2));
    }
}
