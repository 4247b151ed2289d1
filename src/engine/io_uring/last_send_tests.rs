//! A flow's last bytes at the end of its iteration: a small write the port took into its slot
//! (and reported written) must reach the peer even when the socket is full as the flow ends.
//! The stream client ends exactly like this when a short send leaves at most a slot's worth of
//! a chunk: the engine used to cancel that send while draining (tcp4 1 MiB streams over
//! `io_uring-sqpoll` came up 2544 bytes short).

use std::io::ErrorKind;
use std::time::Duration;

use anyhow::{Result, bail};

use super::IoUring;
use crate::engine::{Control, Engine, Flow, FlowReport, FlowSlot, Wait};
use crate::spec::{EngineChoice, Spec, Transport, UringSettings};
use crate::transport::port::SLOT_BYTES;
use crate::transport::{Conn, connector};

/// The remainder the stream test came up short by; any size up to a slot behaves alike.
const LAST: usize = 2544;

/// Writes `LAST` bytes once and ends its iteration as soon as the write is reported done.
struct WriteOnceThenEnd {
    written: bool,
    bytes: [u8; LAST],
}

impl Flow for WriteOnceThenEnd {
    fn progress(&mut self, conn: &mut Conn) -> Result<Wait> {
        if !self.written {
            match conn.write(&self.bytes) {
                Ok(n) if n == LAST => self.written = true,
                Ok(n) => bail!("the slot took {n} of {LAST} bytes"),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(Wait::Write),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Wait::Done)
    }

    fn report(self: Box<Self>) -> FlowReport {
        FlowReport::default()
    }
}

/// Fills `conn`'s socket until the kernel takes nothing more (bounded: at most 64 MiB);
/// returns the bytes it took.
fn fill(conn: &mut Conn) -> u64 {
    conn.set_nonblocking(true).unwrap();
    let chunk = [0x33u8; 64 * 1024];
    let mut filled = 0;
    for _ in 0..1024 {
        match conn.write(&chunk) {
            Ok(n) => filled += n as u64,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return filled,
            Err(e) => panic!("filling the socket: {e}"),
        }
    }
    panic!("the socket took 64 MiB without filling up")
}

#[test]
fn a_slot_write_reported_done_reaches_the_peer_when_the_socket_was_full() {
    const { assert!(LAST <= SLOT_BYTES) };
    for t in [Transport::Tcp4, Transport::UnixStream] {
        for v in ["io_uring", "io_uring-fixed", "io_uring-sqpoll"] {
            let settings: UringSettings = v.parse::<EngineChoice>().unwrap().uring;
            let (mut client, mut server) = connector(&Spec::new(t)).unwrap().pair().unwrap();
            let filled = fill(&mut client);
            // The reader starts late, so the slot's send meets a full socket when the engine
            // drains (it would be cancelled there before the fix, in the same io_uring_enter
            // with a plain ring); then it reads to the end of stream.
            let reader = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                let mut buf = vec![0u8; 256 * 1024];
                let mut got = 0u64;
                loop {
                    match server.read(&mut buf) {
                        Ok(0) => return got,
                        Ok(n) => got += n as u64,
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) => panic!("reading: {e}"),
                    }
                }
            });
            let flow = WriteOnceThenEnd {
                written: false,
                bytes: [0x44; LAST],
            };
            let mut slots = vec![FlowSlot {
                conn: client,
                flow: Box::new(flow),
            }];
            let driven = IoUring { settings }.drive(
                &mut slots,
                &Control::default(),
                Duration::from_millis(10),
            );
            drop(slots);
            let got = reader.join().unwrap();
            driven.unwrap_or_else(|e| panic!("{t} {v}: {e:#}"));
            assert_eq!(got, filled + LAST as u64, "{t} {v}");
        }
    }
}
