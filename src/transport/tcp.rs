//! `tcp4` and `tcp6`: a listener bound to the server address, one connect/accept per pair.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::conn::{Conn, Connector};
use super::options;
use crate::error::UsageError;
use crate::spec::address::Endpoint;
use crate::spec::{SocketOptions, Spec};

/// How long connect() and accept() may take on loopback before the case fails.
const SETUP_TIMEOUT: Duration = Duration::from_secs(5);

/// The server address of an IP transport: the spec's, or the family default.
pub(crate) fn server_ip(spec: &Spec) -> Result<IpAddr> {
    match spec
        .addr
        .clone()
        .or_else(|| Endpoint::default_for(spec.transport))
    {
        Some(Endpoint::Ip(ip)) => Ok(ip),
        other => bail!(
            "{} needs an IP server address, got {other:?}",
            spec.transport
        ),
    }
}

/// Explains a bind failure in terms of what the user can change.
pub(crate) fn bind_error(err: io::Error, addr: SocketAddr) -> anyhow::Error {
    let hint = match err.raw_os_error() {
        Some(libc::EADDRINUSE) => "address in use; pick another --port or stop the other listener",
        Some(libc::EADDRNOTAVAIL) => {
            "address not available on this machine; check `loopbench iface` (is lo up, is IPv6 enabled?)"
        }
        Some(libc::EACCES) => {
            "permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE"
        }
        _ => return anyhow::Error::new(err).context(format!("could not bind {addr}")),
    };
    anyhow::Error::new(UsageError(format!("could not bind {addr}: {hint}")))
}

/// A TCP listener for one case; every pair is a fresh connection.
pub struct TcpConnector {
    listener: Socket,
    server: SocketAddr,
    client_ip: Option<IpAddr>,
    options: SocketOptions,
}

fn new_socket(domain: Domain, opts: &SocketOptions) -> Result<Socket> {
    let sock = Socket::new(domain, Type::STREAM.cloexec(), Some(Protocol::TCP))
        .context("creating a TCP socket")?;
    options::apply_buffers(&sock, opts)?;
    Ok(sock)
}

impl TcpConnector {
    /// Binds and listens on the spec's server address and port.
    pub fn open(spec: &Spec) -> Result<TcpConnector> {
        let server = SocketAddr::new(server_ip(spec)?, spec.port);
        let domain = Domain::for_address(server);
        let listener = new_socket(domain, &spec.socket)?;
        listener.set_reuse_address(true)?;
        if server.is_ipv6() {
            listener.set_only_v6(true)?;
        }
        listener
            .bind(&server.into())
            .map_err(|e| bind_error(e, server))?;
        listener
            .listen(1024)
            .context("listen() on the TCP server socket")?;
        listener.set_read_timeout(Some(SETUP_TIMEOUT))?;
        let server = listener
            .local_addr()?
            .as_socket()
            .context("listener has an IP address")?;
        Ok(TcpConnector {
            listener,
            server,
            client_ip: spec.client_addr,
            options: spec.socket,
        })
    }
}

impl Connector for TcpConnector {
    fn pair(&mut self) -> Result<(Conn, Conn)> {
        let client = new_socket(Domain::for_address(self.server), &self.options)?;
        options::apply_tcp(&client, &self.options)?;
        if let Some(ip) = self.client_ip {
            let from = SocketAddr::new(ip, 0);
            client.bind(&from.into()).map_err(|e| bind_error(e, from))?;
        }
        client
            .connect_timeout(&self.server.into(), SETUP_TIMEOUT)
            .with_context(|| format!("could not connect to {}", self.server))?;
        let client_local = client.local_addr()?;
        // Accept until the connection is ours: another process may race us to the port.
        for _ in 0..16 {
            let (server, from): (Socket, SockAddr) = self
                .listener
                .accept()
                .with_context(|| format!("accept() on {} timed out or failed", self.server))?;
            if from.as_socket() != client_local.as_socket() {
                continue;
            }
            options::apply_tcp(&server, &self.options)?;
            server.set_read_timeout(None)?;
            let (ci, si) = (options::info(&client), options::info(&server));
            return Ok((
                Conn::socket(client.into(), ci),
                Conn::socket(server.into(), si),
            ));
        }
        bail!(
            "{}: accepted 16 connections that were not ours; is another program connecting to this port?",
            self.server
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Transport;
    use crate::transport::test_util::echo_once;

    #[test]
    fn tcp4_pairs_carry_bytes_both_ways() {
        let mut c = TcpConnector::open(&Spec::new(Transport::Tcp4)).unwrap();
        let (mut a, mut b) = c.pair().unwrap();
        echo_once(&mut a, &mut b, &[7u8; 64 * 1024]);
        assert!(a.info.peer.as_deref().unwrap().starts_with("127.0.0.1:"));
    }

    #[test]
    fn tcp6_and_aliases_work() {
        let mut c = TcpConnector::open(&Spec::new(Transport::Tcp6)).unwrap();
        let (mut a, mut b) = c.pair().unwrap();
        echo_once(&mut a, &mut b, b"hello");

        let mut spec = Spec::new(Transport::Tcp4);
        spec.addr = Some(Endpoint::Ip("127.0.0.2".parse().unwrap()));
        spec.client_addr = Some("127.0.0.3".parse().unwrap());
        let mut c = TcpConnector::open(&spec).unwrap();
        let (a, b) = c.pair().unwrap();
        assert!(a.info.local.as_deref().unwrap().starts_with("127.0.0.3:"));
        assert!(b.info.local.as_deref().unwrap().starts_with("127.0.0.2:"));
    }

    #[test]
    fn port_in_use_is_a_usage_error_that_says_what_to_do() {
        let first = TcpConnector::open(&Spec::new(Transport::Tcp4)).unwrap();
        let mut spec = Spec::new(Transport::Tcp4);
        spec.port = first.server.port();
        let err = TcpConnector::open(&spec).err().unwrap();
        assert!(crate::error::is_usage_error(&err));
        let text = format!("{err:#}");
        assert!(
            text.contains("address in use") && text.contains("--port"),
            "{text}"
        );
    }
}
