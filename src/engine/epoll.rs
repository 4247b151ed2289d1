//! `epoll`: non-blocking connections in one epoll set per thread (mio, edge-triggered), the way
//! most event-driven servers wait. Any number of flows per thread; a wake-up costs an
//! `epoll_wait` return on top of the read or write, and a change of interest an `epoll_ctl`.
//!
//! Each flow's connection is registered for what the flow last waited for (readable or
//! writable), and re-registered only when that changes, so a request/response flow costs no
//! `epoll_ctl` per message. Timed flows (`rate`) are woken by a timerfd armed to the earliest
//! send deadline of the thread (nanosecond resolution; epoll_wait's own timeout has only 1 ms).

use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::Duration;

use anyhow::{Context, Result};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};

use super::drive::{Control, Engine, should_return};
use super::flow::{FlowSlot, Wait};
use crate::metrics::clock::monotonic_ns;
use crate::metrics::rusage::ThreadUsage;
use crate::spec::EngineKind;
use crate::transport::Conn;

/// The epoll engine.
pub struct Epoll;

/// The token of the deadline timer; flows use their index.
const TIMER: Token = Token(usize::MAX);

/// What one flow's connection is registered for.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Registration {
    conn: u64,
    fd: RawFd,
    interest: Interest,
}

/// One thread's epoll set and its flows' registrations.
struct Set {
    poll: Poll,
    registered: Vec<Option<Registration>>,
}

impl Set {
    /// Registers `conn` for `wait` under `token`, changing the kernel's set only when the
    /// connection, the fd or the interest changed since last time.
    fn want(&mut self, token: usize, conn: &Conn, wait: Wait) -> io::Result<()> {
        let (fd, interest) = match wait {
            Wait::Read => (conn.read_fd(), Interest::READABLE),
            Wait::Write => (conn.write_fd(), Interest::WRITABLE),
            Wait::Done => return Ok(()),
        };
        let Some(fd) = fd else {
            return Err(io::Error::other("the epoll engine needs a file descriptor"));
        };
        let want = Registration {
            conn: conn.id(),
            fd,
            interest,
        };
        let registry = self.poll.registry();
        match self.registered[token] {
            Some(r) if r == want => return Ok(()),
            Some(r) if r.fd == fd && r.conn == want.conn => {
                registry.reregister(&mut SourceFd(&fd), Token(token), interest)?;
            }
            old => {
                if let Some(r) = old {
                    // The old connection is still open (a flow keeps a replaced connection
                    // until its next step), so this fd number is still the old one.
                    let _ = registry.deregister(&mut SourceFd(&r.fd));
                }
                match registry.register(&mut SourceFd(&fd), Token(token), interest) {
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        registry.reregister(&mut SourceFd(&fd), Token(token), interest)?
                    }
                    other => other?,
                }
            }
        }
        self.registered[token] = Some(want);
        Ok(())
    }
}

/// The flows of one thread and which of them are finished.
struct Flows<'a> {
    slots: &'a mut [FlowSlot],
    done: Vec<bool>,
    remaining: usize,
}

impl Flows<'_> {
    /// Lets flow `i` progress and registers what it waits for next.
    fn step(&mut self, set: &mut Set, i: usize) -> Result<()> {
        if self.done[i] {
            return Ok(());
        }
        let slot = &mut self.slots[i];
        let wait = slot.flow.progress(&mut slot.conn)?;
        if wait == Wait::Done {
            self.done[i] = true;
            self.remaining -= 1;
            return Ok(());
        }
        set.want(i, &slot.conn, wait)
            .context("registering a connection with epoll")
    }

    /// The earliest deadline of the unfinished timed flows.
    fn next_deadline(&self) -> Option<u64> {
        self.slots
            .iter()
            .zip(&self.done)
            .filter(|(_, done)| !**done)
            .filter_map(|(s, _)| s.flow.deadline_ns())
            .min()
    }
}

/// Arms the timerfd for an absolute CLOCK_MONOTONIC time (0 would disarm it, so at least 1 ns).
fn arm(timer: &TimerFd, at_ns: u64) -> Result<()> {
    let at = Duration::from_nanos(at_ns.max(1));
    timer
        .set(
            Expiration::OneShot(TimeSpec::from_duration(at)),
            TimerSetTimeFlags::TFD_TIMER_ABSTIME,
        )
        .context("arming the deadline timer")
}

impl Engine for Epoll {
    fn kind(&self) -> EngineKind {
        EngineKind::Epoll
    }

    fn drive(
        &self,
        slots: &mut Vec<FlowSlot>,
        control: &Control,
        tick: Duration,
    ) -> Result<ThreadUsage> {
        for slot in slots.iter_mut() {
            slot.conn.set_nonblocking(true)?;
        }
        let n = slots.len();
        let timed = slots.iter().any(|s| s.flow.timed());
        let mut set = Set {
            poll: Poll::new().context("creating an epoll set")?,
            registered: vec![None; n],
        };
        let timer = if timed {
            let t = TimerFd::new(
                ClockId::CLOCK_MONOTONIC,
                TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
            )
            .context("creating a timerfd")?;
            let fd = t.as_fd().as_raw_fd();
            set.poll
                .registry()
                .register(&mut SourceFd(&fd), TIMER, Interest::READABLE)?;
            Some(t)
        } else {
            None
        };
        let mut armed = None;
        let mut events = Events::with_capacity(n.clamp(16, 1024) + 1);
        let mut flows = Flows {
            slots: &mut slots[..],
            done: vec![false; n],
            remaining: n,
        };
        for i in 0..n {
            flows.step(&mut set, i)?;
        }
        while flows.remaining > 0 {
            if let Some(timer) = &timer {
                let next = flows.next_deadline();
                if next != armed {
                    if let Some(at) = next {
                        arm(timer, at)?;
                    }
                    armed = next;
                }
            }
            match set.poll.poll(&mut events, Some(tick)) {
                Ok(()) => {}
                // The watchdog's kick: look at the control below.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e).context("epoll_wait"),
            }
            if events.is_empty() {
                // A tick without events (or a kick): every flow looks at its own clock (a
                // datagram client counts a loss, a stuck peer is reported).
                for i in 0..n {
                    flows.step(&mut set, i)?;
                }
            }
            for event in events.iter() {
                if event.token() == TIMER {
                    armed = None;
                    let now = monotonic_ns();
                    for i in 0..n {
                        if flows.slots[i].flow.deadline_ns().is_some_and(|d| d <= now) {
                            flows.step(&mut set, i)?;
                        }
                    }
                } else {
                    flows.step(&mut set, event.token().0)?;
                }
            }
            if flows.remaining > 0 && should_return(control)? {
                // Wound down: take what is already queued, without sleeping again.
                for i in 0..n {
                    flows.step(&mut set, i)?;
                }
                break;
            }
        }
        Ok(ThreadUsage::default())
    }
}
