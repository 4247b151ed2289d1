//! `blocking`: plain blocking read/write. The thread sleeps in the kernel until its peer's write
//! wakes it, so every message pays for a wake-up (and, cross-core, an IPI).

use std::time::Duration;

use anyhow::{Result, bail};

use super::{Control, Engine, FlowSlot, Wait, should_return};
use crate::spec::EngineKind;

/// The blocking engine: one flow per thread.
pub struct Blocking;

impl Engine for Blocking {
    fn kind(&self) -> EngineKind {
        EngineKind::Blocking
    }

    fn max_flows_per_thread(&self) -> usize {
        1
    }

    fn drive(&self, slots: &mut [FlowSlot], control: &Control, _tick: Duration) -> Result<()> {
        let [slot] = slots else {
            bail!(
                "the blocking engine drives exactly one flow per thread, got {}",
                slots.len()
            );
        };
        slot.conn.set_nonblocking(false)?;
        // No SO_RCVTIMEO here: a receive timeout makes every sleep arm and cancel a kernel timer,
        // which is harness overhead on every message. The runner's watchdog interrupts the
        // thread with a signal instead when it must look at the control (wind-down, abort, a
        // datagram that may be lost).
        loop {
            match slot.flow.progress(&mut slot.conn)? {
                Wait::Done => return Ok(()),
                Wait::Read | Wait::Write => {
                    if should_return(control)? {
                        // Wound down: take what is already queued, without sleeping again.
                        slot.conn.set_nonblocking(true)?;
                        slot.flow.progress(&mut slot.conn)?;
                        return Ok(());
                    }
                }
            }
        }
    }
}
