//! TCP_INFO of a client's connection: read at the start and end of an iteration and sampled
//! during it, so a case can say what TCP did (retransmits, round-trip time, the delayed-ACK
//! timeout, bytes in flight and waiting, segments per message).

use std::os::fd::RawFd;

use serde::{Deserialize, Serialize};

/// One reading of a connection's TCP_INFO (the fields a latency diagnosis needs).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct TcpInfoSample {
    /// Smoothed round-trip time the kernel estimates, in microseconds.
    pub rtt_us: u32,
    /// Its variation, in microseconds.
    pub rttvar_us: u32,
    /// The delayed-ACK timeout in force, in microseconds (`ato`).
    pub ato_us: u32,
    /// Segments retransmitted over the connection's life.
    pub total_retrans: u32,
    /// Segments sent and not yet acknowledged.
    pub unacked: u32,
    /// Bytes written by the application and not yet sent.
    pub notsent_bytes: u32,
    /// The largest segment received so far (the receive MSS).
    pub rcv_mss: u32,
    /// Segments carrying data received over the connection's life.
    pub data_segs_in: u32,
    /// Segments carrying data sent over the connection's life.
    pub data_segs_out: u32,
}

/// TCP_INFO of socket `fd`, or `None` when it is not a TCP socket (a Unix socket, a pipe).
pub fn read(fd: RawFd) -> Option<TcpInfoSample> {
    // SAFETY: tcp_info is plain old data; zeroed is a valid value.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: `info` is writable for `len` bytes and `len` says so; the kernel writes at most
    // that many and updates `len`.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_TCP,
            libc::TCP_INFO,
            (&raw mut info).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some(TcpInfoSample {
        rtt_us: info.tcpi_rtt,
        rttvar_us: info.tcpi_rttvar,
        ato_us: info.tcpi_ato,
        total_retrans: info.tcpi_total_retrans,
        unacked: info.tcpi_unacked,
        notsent_bytes: info.tcpi_notsent_bytes,
        rcv_mss: info.tcpi_rcv_mss,
        data_segs_in: info.tcpi_data_segs_in,
        data_segs_out: info.tcpi_data_segs_out,
    })
}

/// One connection's TCP_INFO over an iteration: the first and last readings and the largest
/// values seen in the samples between.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpTrack {
    /// The first reading (the iteration's start).
    pub first: TcpInfoSample,
    /// The latest reading (the iteration's end once it finished).
    pub last: TcpInfoSample,
    /// Largest `unacked` seen.
    pub max_unacked: u32,
    /// Largest `notsent_bytes` seen.
    pub max_notsent_bytes: u32,
    /// Largest `rtt_us` seen.
    pub max_rtt_us: u32,
    /// Readings taken.
    pub samples: u32,
}

impl TcpTrack {
    /// Adds a reading.
    pub fn add(&mut self, s: TcpInfoSample) {
        if self.samples == 0 {
            self.first = s;
        }
        self.last = s;
        self.max_unacked = self.max_unacked.max(s.unacked);
        self.max_notsent_bytes = self.max_notsent_bytes.max(s.notsent_bytes);
        self.max_rtt_us = self.max_rtt_us.max(s.rtt_us);
        self.samples += 1;
    }

    /// Reads `fd` and adds the reading; false when `fd` has no TCP_INFO.
    pub fn sample(&mut self, fd: RawFd) -> bool {
        match read(fd) {
            Some(s) => {
                self.add(s);
                true
            }
            None => false,
        }
    }

    /// Data segments (received, sent) between the first and the last reading.
    pub fn data_segments(&self) -> (u64, u64) {
        (
            u64::from(self.last.data_segs_in.wrapping_sub(self.first.data_segs_in)),
            u64::from(
                self.last
                    .data_segs_out
                    .wrapping_sub(self.first.data_segs_out),
            ),
        )
    }

    /// Retransmits between the first and the last reading.
    pub fn retransmits(&self) -> u64 {
        u64::from(
            self.last
                .total_retrans
                .wrapping_sub(self.first.total_retrans),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_track_counts_segments_between_its_first_and_last_reading() {
        let mut t = TcpTrack::default();
        let at = |segs_in, segs_out, unacked| TcpInfoSample {
            data_segs_in: segs_in,
            data_segs_out: segs_out,
            unacked,
            total_retrans: segs_in / 100,
            ..TcpInfoSample::default()
        };
        t.add(at(10, 5, 0));
        t.add(at(110, 55, 3));
        t.add(at(210, 105, 1));
        assert_eq!(t.data_segments(), (200, 100));
        assert_eq!((t.max_unacked, t.samples, t.retransmits()), (3, 3, 2));
    }

    #[test]
    fn a_loopback_tcp_connection_has_tcp_info_and_a_pipe_has_none() {
        use std::io::{Read, Write};
        use std::os::fd::AsRawFd;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        client.write_all(b"ping").unwrap();
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).unwrap();
        let s = read(client.as_raw_fd()).expect("TCP_INFO of a TCP socket");
        assert_eq!(s.data_segs_out, 1, "one write of 4 bytes is one segment");
        let (r, _w) = nix::unistd::pipe().unwrap();
        assert_eq!(read(r.as_raw_fd()), None);
    }
}
