//! Connection-per-transaction transports for `crr`: one listener per case that server flows
//! accept from, and a [`Dialer`] per client flow that opens a fresh connection for every
//! transaction (tcp4, tcp6, unix-stream, unix-seqpacket).
//!
//! Source addresses: with `--spread 127.0.0.2-127.0.0.50` each new client connection binds the
//! next address of the range (flow `f` starts at entry `f`, then steps by the number of flows),
//! with IP_BIND_ADDRESS_NO_PORT so the kernel picks the port at connect() time by the whole
//! 4-tuple: every source address has its own ephemeral port range toward the server, so 49
//! addresses give 49 times the ports before TIME_WAIT can exhaust them.
//!
//! TIME_WAIT: the client closes first, so its side holds TIME_WAIT (60 s on Linux). `--linger0`
//! sets SO_LINGER {on, 0}: close() sends an RST and leaves nothing behind. Neither is silent:
//! the record names which one a run used, the ephemeral port range and how many ports it used.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use anyhow::{Context, Result};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::conn::{Conn, ConnInfo};
use super::options::{self, Buffers};
use super::tcp::{bind_error, server_ip};
use super::unix::{fresh_abstract, sockaddr, socket_type};
use super::wait::{Interest, wait_fd};
use crate::spec::address::Target;
use crate::spec::spread::AddrRange;
use crate::spec::{SocketOptions, Spec, Transport};

/// Listen backlog of the crr listener: connections arrive as fast as the clients can open them.
const BACKLOG: i32 = 4096;

/// The listening side of a crr case.
pub struct CrrListener {
    listener: Socket,
    server: SockAddr,
    tcp: bool,
    options: SocketOptions,
    created: Option<PathBuf>,
}

impl CrrListener {
    /// Binds and listens on the spec's server address (no accept timeout: the watchdog's kick
    /// interrupts a blocked accept).
    pub fn open(spec: &Spec) -> Result<CrrListener> {
        let tcp = matches!(spec.transport, Transport::Tcp4 | Transport::Tcp6);
        let (listener, created) = if tcp {
            let addr = SocketAddr::new(server_ip(spec)?, spec.port);
            let domain = Domain::for_address(addr);
            let sock = Socket::new(domain, Type::STREAM.cloexec(), Some(Protocol::TCP))
                .context("creating a TCP socket")?;
            options::apply_buffers(&sock, &spec.socket)?;
            sock.set_reuse_address(true)?;
            // Accepted connections inherit TCP_NODELAY and TCP_NOTSENT_LOWAT from the listener.
            options::apply_tcp(&sock, &spec.socket)?;
            if addr.is_ipv6() {
                sock.set_only_v6(true)?;
            }
            sock.bind(&addr.into()).map_err(|e| bind_error(e, addr))?;
            (sock, None)
        } else {
            let at = spec.addr.clone().unwrap_or_else(|| fresh_abstract("crr"));
            super::unix::bind(spec.transport, &spec.socket, &at)?
        };
        listener
            .listen(BACKLOG)
            .context("listen() on the crr server socket")?;
        let server = listener.local_addr()?;
        Ok(CrrListener {
            listener,
            server,
            tcp,
            options: spec.socket,
            created,
        })
    }

    /// A listening connection for one server flow: its own fd (a dup), so every flow can wait
    /// on it in its own engine.
    pub fn listening_conn(&self) -> Result<Conn> {
        let dup = self
            .listener
            .try_clone()
            .context("duplicating the listener")?;
        Ok(Conn::socket(dup.into(), options::info(&self.listener)))
    }

    /// The address clients connect to (for [`Dialer::to`]).
    pub fn server(&self) -> &SockAddr {
        &self.server
    }

    /// Accepts one connection, waiting at most until `deadline_ns` (CLOCK_MONOTONIC).
    pub fn accept_until(&self, deadline_ns: u64) -> Result<Conn> {
        self.accept_or_stop(
            Some(deadline_ns),
            &std::sync::atomic::AtomicBool::new(false),
        )
    }

    /// Accepts one connection, waiting until `deadline_ns` (forever when `None`) or until
    /// `stop` becomes true (looked at every [`STOP_POLL_NS`]): then the error is
    /// [`Interrupted`](crate::error::Interrupted).
    pub fn accept_or_stop(
        &self,
        deadline_ns: Option<u64>,
        stop: &std::sync::atomic::AtomicBool,
    ) -> Result<Conn> {
        let mut listening = self.listening_conn()?;
        listening.set_nonblocking(true)?;
        loop {
            match listening.accept() {
                Ok(mut conn) => {
                    conn.set_nonblocking(false)?;
                    if self.tcp {
                        if let Some(fd) = conn.read_fd() {
                            // SAFETY: the fd belongs to `conn`, alive for this borrow.
                            let b = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
                            options::apply_tcp(&socket2::SockRef::from(&b), &self.options)?;
                        }
                    }
                    return Ok(conn);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let now = crate::metrics::clock::monotonic_ns();
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        return Err(crate::error::Interrupted.into());
                    }
                    if deadline_ns.is_some_and(|d| now >= d) {
                        anyhow::bail!("no client connected to {} in time", self.address());
                    }
                    let until =
                        deadline_ns.map_or(now + STOP_POLL_NS, |d| d.min(now + STOP_POLL_NS));
                    if let Some(fd) = listening.read_fd() {
                        match wait_fd(fd, Interest::Read, Some(until)) {
                            Err(e) if e.kind() != io::ErrorKind::Interrupted => {
                                return Err(e.into());
                            }
                            _ => {}
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e).context("accepting a client"),
            }
        }
    }

    /// The address clients connect to.
    pub fn address(&self) -> String {
        options::info(&self.listener).local.unwrap_or_default()
    }
}

impl Drop for CrrListener {
    fn drop(&mut self) {
        if let Some(p) = &self.created {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// How often a waiting listener looks whether it should stop (a Ctrl-C is seen within this).
pub const STOP_POLL_NS: u64 = 50_000_000;

/// Opens the client connections of one crr flow.
pub struct Dialer {
    server: SockAddr,
    domain: Domain,
    kind: Type,
    tcp: bool,
    options: SocketOptions,
    buffers: Buffers,
    client_ip: Option<IpAddr>,
    spread: Option<AddrRange>,
    next_source: usize,
    stride: usize,
    linger0: bool,
}

/// The socket address of a service a server printed or a user gave (`127.0.0.1:9000`,
/// `[::1]:9000`, `@name`, `/path`), refusing anything that is not loopback.
pub fn parse_target(flag: &'static str, text: &str) -> Result<SockAddr> {
    Ok(match Target::parse(flag, text)? {
        Target::Ip(addr) => addr.into(),
        Target::Unix(endpoint) => sockaddr(&endpoint)?,
    })
}

impl Dialer {
    /// A dialer to `server` for client flow `flow` of `flows`, with `spec`'s socket options.
    pub fn to(spec: &Spec, server: SockAddr, flow: usize, flows: usize) -> Dialer {
        let tcp = server.is_ipv4() || server.is_ipv6();
        Dialer {
            domain: server.domain(),
            kind: if tcp {
                Type::STREAM
            } else {
                socket_type(spec.transport)
            },
            server,
            tcp,
            options: spec.socket,
            buffers: Buffers::resolve(&spec.socket),
            client_ip: spec.client_addr,
            spread: spec.crr.spread,
            next_source: flow,
            stride: flows.max(1),
            linger0: spec.crr.linger0,
        }
    }

    /// True for TCP (connections with ports), false for Unix sockets.
    pub fn is_tcp(&self) -> bool {
        self.tcp
    }

    /// A new socket that has started connecting to the server. In non-blocking mode the
    /// connection may still be in progress (a write then returns `WouldBlock` until it is up).
    pub fn dial(&mut self, nonblocking: bool) -> io::Result<Conn> {
        let sock = self.socket(nonblocking)?;
        match sock.connect(&self.server) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        Ok(Conn::socket_in_mode(
            sock.into(),
            ConnInfo::default(),
            nonblocking,
        ))
    }

    /// A new blocking socket connected to the server, or `TimedOut` when the connection is not
    /// up within `timeout` (a service whose listen backlog is full drops the handshake, and a
    /// plain connect() would wait for the kernel's SYN retries, about two minutes).
    pub fn dial_within(&mut self, timeout: std::time::Duration) -> io::Result<Conn> {
        let sock = self.socket(false)?;
        sock.connect_timeout(&self.server, timeout)?;
        Ok(Conn::socket_in_mode(
            sock.into(),
            ConnInfo::default(),
            false,
        ))
    }

    /// A new socket for the next connection, with the options and source address set.
    fn socket(&mut self, nonblocking: bool) -> io::Result<Socket> {
        let mut kind = self.kind.cloexec();
        if nonblocking {
            kind = kind.nonblocking();
        }
        let protocol = self.tcp.then_some(Protocol::TCP);
        let sock = Socket::new(self.domain, kind, protocol)?;
        self.buffers.apply(&sock).map_err(io::Error::other)?;
        if self.tcp {
            options::apply_tcp(&sock, &self.options).map_err(io::Error::other)?;
            if self.linger0 {
                sock.set_linger(Some(std::time::Duration::ZERO))?;
            }
            let source = match self.spread {
                Some(range) => {
                    let ip = range.nth(self.next_source);
                    self.next_source = self.next_source.wrapping_add(self.stride);
                    Some(ip)
                }
                None => self.client_ip,
            };
            if let Some(ip) = source {
                // The port is chosen at connect() by the whole 4-tuple, not at bind().
                options::set_int(&sock, libc::IPPROTO_IP, libc::IP_BIND_ADDRESS_NO_PORT, 1)?;
                sock.bind(&SocketAddr::new(ip, 0).into())?;
            }
        }
        Ok(sock)
    }
}

impl Dialer {
    /// An unconnected socket that stands in the client's slot until its first transaction
    /// replaces it (engines set its blocking mode, which every dialed connection then follows).
    pub fn placeholder(&self) -> io::Result<Conn> {
        let protocol = self.tcp.then_some(Protocol::TCP);
        let sock = Socket::new(self.domain, self.kind.cloexec(), protocol)?;
        Ok(Conn::socket(sock.into(), ConnInfo::default()))
    }
}

/// The local port of a connected TCP socket (getsockname), if it has one.
pub fn local_port(conn: &Conn) -> Option<u16> {
    let fd = conn.read_fd()?;
    // SAFETY: the fd belongs to `conn`, which outlives this borrow.
    let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    let sock = socket2::SockRef::from(&borrowed);
    sock.local_addr().ok()?.as_socket().map(|a| a.port())
}

/// The kernel's ephemeral port range (net.ipv4.ip_local_port_range).
pub fn ephemeral_port_range() -> Option<(u16, u16)> {
    let text = crate::host::sysctl::read("net.ipv4.ip_local_port_range")?;
    let mut it = text.split(' ').map(|x| x.parse().ok());
    Some((it.next()??, it.next()??))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int_option(conn: &Conn, level: libc::c_int, option: libc::c_int) -> libc::c_int {
        let fd = conn.read_fd().unwrap();
        let mut value: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `value` and `len` are live and sized for a c_int; `fd` belongs to `conn`.
        let ret = unsafe {
            libc::getsockopt(
                fd,
                level,
                option,
                (&mut value as *mut libc::c_int).cast(),
                &mut len,
            )
        };
        assert_eq!(ret, 0, "{}", io::Error::last_os_error());
        value
    }

    #[test]
    fn dialed_and_accepted_connections_carry_the_tcp_options() {
        let mut spec = Spec::new(Transport::Tcp4);
        spec.socket.notsent_lowat = Some(16384);
        spec.socket.sndbuf = Some(65536);
        let listener = CrrListener::open(&spec).unwrap();
        let mut dialer = Dialer::to(&spec, listener.server().clone(), 0, 1);
        let client = dialer.dial(false).unwrap();
        let deadline = crate::metrics::clock::monotonic_ns() + 5_000_000_000;
        let server = listener.accept_until(deadline).unwrap();
        for (side, conn) in [("client", &client), ("server", &server)] {
            let lowat = int_option(conn, libc::IPPROTO_TCP, libc::TCP_NOTSENT_LOWAT);
            assert_eq!(lowat, 16384, "{side}: TCP_NOTSENT_LOWAT");
            assert_eq!(
                int_option(conn, libc::IPPROTO_TCP, libc::TCP_NODELAY),
                1,
                "{side}"
            );
        }
        // The kernel doubles SO_SNDBUF for its bookkeeping.
        assert_eq!(
            int_option(&client, libc::SOL_SOCKET, libc::SO_SNDBUF),
            2 * 65536
        );
    }
}
