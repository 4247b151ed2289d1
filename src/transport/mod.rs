//! Transports build connected client/server [`Conn`] pairs. One file per transport family; the
//! table in [`connector`] is the only place that knows them all.
//!
//! A [`Conn`] is what engines and workloads see: `read`/`write` that report `WouldBlock` and
//! `Interrupted` instead of retrying (engines decide what waiting means), on a file descriptor or,
//! for `shm`, on a user-space ring.

pub mod arrived;
mod conn;
pub mod dial;
pub mod limits;
pub mod options;
pub mod pipe;
pub mod port;
pub mod ring;
pub mod shm;
pub mod tcp;
pub mod udp;
pub mod unix;
pub mod wait;
pub mod zerocopy;

use anyhow::Result;

pub use conn::{Conn, ConnInfo, Connector, ignore_sigpipe};

use crate::spec::{Spec, Transport};

/// The transport table: the connector for a spec.
pub fn connector(spec: &Spec) -> Result<Box<dyn Connector>> {
    Ok(match spec.transport {
        Transport::Tcp4 | Transport::Tcp6 => Box::new(tcp::TcpConnector::open(spec)?),
        Transport::Udp4 | Transport::Udp6 => Box::new(udp::UdpConnector::new(spec)?),
        Transport::UnixStream | Transport::UnixSeqpacket | Transport::UnixDgram => {
            Box::new(unix::UnixConnector::open(spec)?)
        }
        Transport::Pipe => Box::new(pipe::PipeConnector::new(spec)),
        Transport::Shm => Box::new(shm::ShmConnector::new(spec)),
    })
}

#[cfg(test)]
pub(crate) mod test_util {
    use super::*;

    fn send_all(conn: &mut Conn, msg: &[u8]) {
        let mut off = 0;
        while off < msg.len() {
            off += conn.write(&msg[off..]).unwrap();
        }
    }

    fn recv_exact(conn: &mut Conn, len: usize) -> Vec<u8> {
        let mut got = vec![0u8; len];
        let mut off = 0;
        while off < len {
            let n = conn.read(&mut got[off..]).unwrap();
            assert!(n > 0, "unexpected end of stream");
            off += n;
        }
        got
    }

    /// Sends `msg` from `a` to `b` and back, blocking, checking the bytes arrive intact.
    pub fn echo_once(a: &mut Conn, b: &mut Conn, msg: &[u8]) {
        send_all(a, msg);
        assert_eq!(recv_exact(b, msg.len()), msg);
        send_all(b, msg);
        assert_eq!(recv_exact(a, msg.len()), msg);
    }
}
