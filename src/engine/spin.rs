//! `spin`: non-blocking read/write in a busy loop. The thread never sleeps, so no wake-up is ever
//! paid, at the price of a whole CPU per worker (and, on a shared CPU, of its time slice).

use std::time::Duration;

use anyhow::Result;

use super::drive::{Control, Engine, should_return};
use super::flow::{FlowSlot, Wait};
use crate::metrics::rusage::ThreadUsage;
use crate::spec::EngineKind;

/// The busy-polling engine: any number of flows per thread, polled round-robin.
pub struct Spin;

impl Engine for Spin {
    fn kind(&self) -> EngineKind {
        EngineKind::Spin
    }

    fn drive(
        &self,
        slots: &mut Vec<FlowSlot>,
        control: &Control,
        _tick: Duration,
    ) -> Result<ThreadUsage> {
        for slot in slots.iter_mut() {
            slot.conn.set_nonblocking(true)?;
        }
        let mut done = vec![false; slots.len()];
        let mut remaining = slots.len();
        while remaining > 0 {
            for (slot, finished) in slots.iter_mut().zip(done.iter_mut()) {
                if *finished {
                    continue;
                }
                if slot.flow.progress(&mut slot.conn)? == Wait::Done {
                    *finished = true;
                    remaining -= 1;
                }
            }
            // No PAUSE (spin_loop) here: on recent Intel cores it stalls ~140 cycles, which
            // would be added to every detected message on shm; a poll is short enough already.
            // Wound down: the pass above has already taken everything queued.
            if remaining > 0 && should_return(control)? {
                return Ok(ThreadUsage::default());
            }
        }
        Ok(ThreadUsage::default())
    }
}
