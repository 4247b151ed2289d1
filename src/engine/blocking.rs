//! `blocking`: plain blocking read/write. The thread sleeps in the kernel until its peer's write
//! wakes it, so every message pays for a wake-up (and, cross-core, an IPI).

use std::time::Duration;

use anyhow::{Result, bail};

use super::drive::{Control, Engine, should_return};
use super::flow::{FlowSlot, Wait};
use crate::metrics::rusage::ThreadUsage;
use crate::spec::EngineKind;
use crate::transport::wait::wait_fd;

/// The blocking engine: one flow per thread.
pub struct Blocking;

impl Engine for Blocking {
    fn kind(&self) -> EngineKind {
        EngineKind::Blocking
    }

    fn max_flows_per_thread(&self) -> usize {
        1
    }

    fn drive(
        &self,
        slots: &mut Vec<FlowSlot>,
        control: &Control,
        _tick: Duration,
    ) -> Result<ThreadUsage> {
        let [slot] = &mut slots[..] else {
            bail!(
                "the blocking engine drives exactly one flow per thread, got {}",
                slots.len()
            );
        };
        // A timed flow (rate) must wake for its send schedule while no response arrives: its
        // connection stays non-blocking and the thread sleeps in ppoll with the deadline.
        let timed = slot.flow.timed();
        slot.conn.set_nonblocking(timed)?;
        // No SO_RCVTIMEO here: a receive timeout makes every sleep arm and cancel a kernel timer,
        // which is harness overhead on every message. The runner's watchdog interrupts the
        // thread with a signal instead when it must look at the control (wind-down, abort, a
        // datagram that may be lost).
        loop {
            match slot.flow.progress(&mut slot.conn)? {
                Wait::Done => return Ok(ThreadUsage::default()),
                wait @ (Wait::Read | Wait::Write) => {
                    if should_return(control)? {
                        // Wound down: take what is already queued, without sleeping again.
                        slot.conn.set_nonblocking(true)?;
                        slot.flow.progress(&mut slot.conn)?;
                        return Ok(ThreadUsage::default());
                    }
                    if let (true, Some(interest)) = (timed, wait.interest()) {
                        let fd = match wait {
                            Wait::Write => slot.conn.write_fd(),
                            _ => slot.conn.read_fd(),
                        };
                        if let Some(fd) = fd {
                            wait_fd(fd, interest, slot.flow.deadline_ns())?;
                        }
                    }
                }
            }
        }
    }
}
