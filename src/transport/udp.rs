//! `udp4` and `udp6`: a pair of connected UDP sockets, one per side.

use std::net::{IpAddr, SocketAddr};

use anyhow::{Context, Result};
use socket2::{Domain, Protocol, Socket, Type};

use super::conn::{Conn, Connector};
use super::options;
use super::tcp::{bind_error, server_ip};
use crate::spec::{SocketOptions, Spec};

/// Builds connected UDP socket pairs on the spec's addresses.
pub struct UdpConnector {
    server: SocketAddr,
    client_ip: Option<IpAddr>,
    options: SocketOptions,
}

fn new_socket(addr: &SocketAddr, opts: &SocketOptions) -> Result<Socket> {
    let sock = Socket::new(
        Domain::for_address(*addr),
        Type::DGRAM.cloexec(),
        Some(Protocol::UDP),
    )
    .context("creating a UDP socket")?;
    if addr.is_ipv6() {
        sock.set_only_v6(true)?;
    }
    options::apply_buffers(&sock, opts)?;
    Ok(sock)
}

impl UdpConnector {
    /// Checks the server address can be bound (so "port in use" is reported before measuring).
    pub fn new(spec: &Spec) -> Result<UdpConnector> {
        let server = SocketAddr::new(server_ip(spec)?, spec.port);
        let mut c = UdpConnector {
            server,
            client_ip: spec.client_addr,
            options: spec.socket,
        };
        drop(c.bind_server()?);
        c.server = server;
        Ok(c)
    }

    fn bind_server(&mut self) -> Result<Socket> {
        let sock = new_socket(&self.server, &self.options)?;
        // Several flows may share a fixed --port: each server socket is connected to its own
        // client, and the kernel delivers by the full 4-tuple.
        sock.set_reuse_address(true)?;
        sock.bind(&self.server.into())
            .map_err(|e| bind_error(e, self.server))?;
        Ok(sock)
    }
}

impl Connector for UdpConnector {
    fn pair(&mut self) -> Result<(Conn, Conn)> {
        let server = self.bind_server()?;
        let server_addr = server.local_addr()?;
        let client = new_socket(&self.server, &self.options)?;
        let from = SocketAddr::new(self.client_ip.unwrap_or(self.server.ip()), 0);
        client.bind(&from.into()).map_err(|e| bind_error(e, from))?;
        client
            .connect(&server_addr)
            .context("connecting the UDP client socket")?;
        server
            .connect(&client.local_addr()?)
            .context("connecting the UDP server socket")?;
        let (ci, si) = (options::info(&client), options::info(&server));
        Ok((
            Conn::socket(client.into(), ci),
            Conn::socket(server.into(), si),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Transport;
    use crate::transport::test_util::echo_once;

    #[test]
    fn udp_pairs_carry_datagrams_both_ways() {
        for t in [Transport::Udp4, Transport::Udp6] {
            let mut c = UdpConnector::new(&Spec::new(t)).unwrap();
            let (mut a, mut b) = c.pair().unwrap();
            echo_once(&mut a, &mut b, &[1u8; 1200]);
            let (mut a2, mut b2) = c.pair().unwrap();
            echo_once(&mut a2, &mut b2, b"second flow");
        }
    }

    #[test]
    fn flows_can_share_a_fixed_port() {
        let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        let mut spec = Spec::new(Transport::Udp4);
        spec.port = port;
        let mut c = UdpConnector::new(&spec).unwrap();
        let (mut a1, mut b1) = c.pair().unwrap();
        let (mut a2, mut b2) = c.pair().unwrap();
        echo_once(&mut a1, &mut b1, b"one");
        echo_once(&mut a2, &mut b2, b"two");
    }
}
