//! `shm`: the floor. Connected pairs of shared-memory byte rings ([`ring`]):
//! a round trip costs what moving cache lines between the two CPUs costs and nothing else.
//!
//! With the `spin` engine both sides poll the ring. With the `blocking` engine a reader that
//! finds the ring empty sleeps on a futex and the writer wakes it: the same data path plus exactly
//! one kernel wake-up, which isolates what sleeping costs without any file-descriptor machinery.

use anyhow::Result;

use super::conn::{Conn, ConnInfo, Connector};
use super::ring::{self, DEFAULT_CAPACITY};
use crate::spec::Spec;

/// Builds shm ring pairs; `--sndbuf` sets the ring capacity.
pub struct ShmConnector {
    capacity: usize,
}

impl ShmConnector {
    /// A connector for the spec.
    pub fn new(spec: &Spec) -> ShmConnector {
        ShmConnector {
            capacity: spec.socket.sndbuf.unwrap_or(DEFAULT_CAPACITY),
        }
    }
}

impl Connector for ShmConnector {
    fn pair(&mut self) -> Result<(Conn, Conn)> {
        let (client, server, size) = ring::pair(self.capacity);
        let info = ConnInfo {
            sndbuf: Some(size),
            rcvbuf: Some(size),
            ..ConnInfo::default()
        };
        Ok((Conn::shm(client, info.clone()), Conn::shm(server, info)))
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::time::Duration;

    use super::*;
    use crate::spec::Transport;
    use crate::transport::test_util::echo_once;

    #[test]
    fn a_ring_carries_bytes_across_the_wrap() {
        let mut spec = Spec::new(Transport::Shm);
        spec.socket.sndbuf = Some(64);
        let (mut a, mut b) = ShmConnector::new(&spec).pair().unwrap();
        for round in 0..50u8 {
            let msg: Vec<u8> = (0..40).map(|i| i ^ round).collect();
            echo_once(&mut a, &mut b, &msg);
        }
    }

    #[test]
    fn an_empty_ring_would_block_when_non_blocking_and_times_out_when_blocking() {
        let (mut a, _b) = ShmConnector::new(&Spec::new(Transport::Shm))
            .pair()
            .unwrap();
        a.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(
            a.read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        a.set_nonblocking(false).unwrap();
        a.set_wait_tick(Duration::from_millis(5)).unwrap();
        assert_eq!(
            a.read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
    }

    #[test]
    fn dropping_one_end_is_end_of_stream_for_the_other() {
        let (mut a, mut b) = ShmConnector::new(&Spec::new(Transport::Shm))
            .pair()
            .unwrap();
        a.write(b"last").unwrap();
        let t = std::thread::spawn(move || {
            let mut buf = [0u8; 16];
            let n = b.read(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"last");
            b.read(&mut buf).unwrap()
        });
        std::thread::sleep(std::time::Duration::from_millis(20));
        drop(a);
        assert_eq!(
            t.join().unwrap(),
            0,
            "a blocked reader wakes up to end of stream"
        );
    }

    #[test]
    fn a_blocked_reader_is_woken_by_the_writer_across_threads() {
        let (mut a, mut b) = ShmConnector::new(&Spec::new(Transport::Shm))
            .pair()
            .unwrap();
        let t = std::thread::spawn(move || {
            let mut got = vec![0u8; 1 << 20];
            let mut off = 0;
            while off < got.len() {
                off += b.read(&mut got[off..]).unwrap();
            }
            got
        });
        let data: Vec<u8> = (0..(1u32 << 20)).map(|i| (i % 251) as u8).collect();
        let mut off = 0;
        while off < data.len() {
            off += a.write(&data[off..]).unwrap();
        }
        assert_eq!(t.join().unwrap(), data);
    }
}
