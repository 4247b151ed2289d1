//! `io_uring`: the flows' reads and writes become operations submitted to one ring per worker
//! thread (see [`port`](crate::transport::port) for the one rule this adds for flows). A
//! request/response costs one `io_uring_enter` per side: the response's send (copied into the
//! connection's slot) and the next receive are submitted together with the wait.
//!
//! Variants ([`UringSettings`], part of the case id):
//! - plain: submit-and-wait, the worker sleeps in `io_uring_enter` for completions;
//! - `-sqpoll[@CPU]`: a kernel thread (`iou-sqp-<tid>`, pinned to CPU when given) polls the
//!   submission queue, so the worker enters the kernel only to wait. That thread's CPU time is
//!   read from its thread CPU clock and returned as the engine's helper usage: it lands on the
//!   side that owns the ring, and run.json shows it apart (`engine_threads`);
//! - `-multishot`: one multishot receive per connection into a ring of provided buffers
//!   (32 × 64 KiB per connection); a receiver that only counts reads them in place;
//! - `-fixed`: registered files and buffers (`READ_FIXED`/`WRITE_FIXED`).
//!
//! Accepts and connects (crr) and direct system calls on a connection before the engine saw
//! it are waited for with a one-shot `POLL_ADD`. A run refuses the engine before measuring
//! when this host does not allow io_uring ([`check`]); [`detect`] names the reason.

mod book;
mod bufring;
pub mod detect;
mod setup;
mod uring;

use std::time::Duration;

use anyhow::Result;

use super::drive::{Control, Engine, should_return};
use super::flow::{FlowSlot, Wait};
use crate::metrics::clock::monotonic_ns;
use crate::metrics::rusage::ThreadUsage;
use crate::spec::{EngineKind, UringSettings};
use crate::transport::Conn;
use setup::{SqThread, build_ring};
use uring::Uring;

pub use setup::check;

/// The io_uring engine with its variant.
pub struct IoUring {
    /// The variant.
    pub settings: UringSettings,
}

/// Entries of one thread's submission queue for `flows` flows (each has at most a slot send,
/// a write, a read or multishot receive and a poll out at once).
fn entries(flows: usize) -> u32 {
    (4 * flows + 8).next_power_of_two().min(4096) as u32
}

impl Engine for IoUring {
    fn kind(&self) -> EngineKind {
        EngineKind::IoUring
    }

    fn drive(
        &self,
        slots: &mut Vec<FlowSlot>,
        control: &Control,
        tick: Duration,
    ) -> Result<ThreadUsage> {
        // Non-blocking: an accept, a connect or a system call made before the port was attached
        // must not sleep; io_uring itself waits for readiness on non-blocking sockets and pipes.
        for slot in slots.iter_mut() {
            slot.conn.set_nonblocking(true)?;
        }
        let ring = build_ring(&self.settings, entries(slots.len()))?;
        let mut conns: Vec<&mut Conn> = slots.iter_mut().map(|s| &mut s.conn).collect();
        let mut u = Uring::new(ring, self.settings, &mut conns)?;
        drop(conns);
        let outcome = run(&mut u, slots, control, tick);
        let mut conns: Vec<&mut Conn> = slots.iter_mut().map(|s| &mut s.conn).collect();
        let drained = u.drain(&mut conns);
        // The SQPOLL thread was started with this ring, so all of its time is this drive's.
        let helpers = match self.settings.sqpoll {
            true => SqThread::of_ring_started(u.ring()).map(|t| t.usage()),
            false => None,
        };
        outcome?;
        drained?;
        match helpers {
            Some(usage) => Ok(usage),
            None if self.settings.sqpoll => {
                anyhow::bail!(
                    "the SQPOLL thread of this io_uring could not be found to count its CPU"
                )
            }
            None => Ok(ThreadUsage::default()),
        }
    }
}

/// Steps the flows that something happened for, submits, waits, reaps; until every flow is
/// done or the runner winds down.
fn run(u: &mut Uring, slots: &mut [FlowSlot], control: &Control, tick: Duration) -> Result<()> {
    let tick_ns = tick.as_nanos() as u64;
    let mut remaining = slots.len();
    loop {
        for (i, slot) in slots.iter_mut().enumerate() {
            let a = &mut u.conns[i];
            if a.done || !std::mem::take(&mut a.pending) {
                continue;
            }
            let wait = slot.flow.progress(&mut slot.conn)?;
            u.follow(i, &mut slot.conn)?;
            let a = &mut u.conns[i];
            a.wait = wait;
            if wait == Wait::Done {
                a.done = true;
                remaining -= 1;
            }
        }
        if remaining == 0 {
            return Ok(());
        }
        let (slot_sends, refused) = u.submit_requests()?;
        // Slot sends normally complete while they are submitted (the socket has room), so the
        // wait asks for them plus one completion that matters; a flow waiting for its slot
        // needs only those.
        let want = (slot_sends + usize::from(!refused)).max(1);
        let now = monotonic_ns();
        let deadline = slots
            .iter()
            .zip(&u.conns)
            .filter(|(_, a)| !a.done)
            .filter_map(|(s, _)| s.flow.deadline_ns())
            .min();
        let timeout = deadline.map_or(tick_ns, |d| d.saturating_sub(now).min(tick_ns));
        let idle = u.wait(want, timeout)?;
        u.reap()?;
        let now = monotonic_ns();
        for (s, a) in slots.iter().zip(u.conns.iter_mut()) {
            // A tick without completions: every flow looks at its own clock (a datagram client
            // counts a loss, a stuck peer is reported); timed flows wake at their deadline.
            if idle || s.flow.deadline_ns().is_some_and(|d| d <= now) {
                a.pending = true;
            }
        }
        if should_return(control)? {
            // Wound down: take what has completed, without sleeping again.
            for (i, slot) in slots.iter_mut().enumerate() {
                if !u.conns[i].done {
                    slot.flow.progress(&mut slot.conn)?;
                    u.follow(i, &mut slot.conn)?;
                }
            }
            return Ok(());
        }
    }
}

#[cfg(test)]
mod last_send_tests;
#[cfg(test)]
mod tests;
