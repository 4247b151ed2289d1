//! `tokio` and `tokio-mt`: every flow is a task awaiting its connection's readiness through
//! tokio's reactor (`AsyncFd`). `tokio` builds a current-thread runtime on the worker thread;
//! `tokio-mt` builds a multi-threaded runtime with one worker (the task runs on the runtime's
//! thread, the worker thread only waits in `block_on`), so the difference is what work stealing
//! and cross-thread wake-ups cost. Runtime threads inherit the worker's CPU affinity, and their
//! CPU time and context switches are added to the side's accounting.
//!
//! Deadlines (`rate`'s schedule, a datagram's loss timeout) are tokio timers, whose resolution is
//! 1 ms: a `rate` run under tokio sends in 1 ms bursts, and the corrected latency shows it.

use std::cell::Cell;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Arc, Mutex};

use std::time::Duration;
use tokio::sync::Mutex as TaskMutex;

use anyhow::{Context, Result, anyhow};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use super::drive::{Aborted, Control, Engine, RunState};
use super::flow::{FlowSlot, Wait};
use crate::metrics::clock::monotonic_ns;
use crate::metrics::rusage::ThreadUsage;
use crate::spec::EngineKind;

/// The tokio engines.
pub struct Tokio {
    /// Multi-threaded runtime (`tokio-mt`) instead of a current-thread one.
    pub multi_thread: bool,
}

/// A borrowed fd for `AsyncFd`: it registers the number and never closes it.
struct FdRef(RawFd);

impl AsRawFd for FdRef {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// Registers `fd` with the runtime's reactor.
fn register(fd: RawFd, interest: Interest) -> std::io::Result<AsyncFd<FdRef>> {
    // SAFETY: the fd belongs to the flow's current connection, which stays open for as long as
    // this registration lives: `Registered` is dropped when the connection is replaced (a flow
    // keeps a replaced connection open until its next step) and before the slot at the end of a
    // task (it is declared after the slot's guard).
    unsafe { AsyncFd::register_with_interest(FdRef(fd), interest) }.map_err(|e| e.into_parts().1)
}

/// The reactor registrations of one connection (two for a pipe pair).
struct Registered {
    conn: u64,
    read: AsyncFd<FdRef>,
    write: Option<AsyncFd<FdRef>>,
}

impl Registered {
    fn new(slot: &FlowSlot) -> Result<Registered> {
        let (r, w) = match (slot.conn.read_fd(), slot.conn.write_fd()) {
            (Some(r), Some(w)) => (r, w),
            _ => return Err(anyhow!("the tokio engines need a file descriptor")),
        };
        let both = Interest::READABLE.add(Interest::WRITABLE);
        let (read, write) = if r == w {
            (register(r, both)?, None)
        } else {
            (
                register(r, Interest::READABLE)?,
                Some(register(w, Interest::WRITABLE)?),
            )
        };
        Ok(Registered {
            conn: slot.conn.id(),
            read,
            write,
        })
    }

    /// Waits until the fd is ready for `wait`, and forgets that readiness: the flow's next
    /// step consumes it, and a new edge re-arms it.
    async fn ready(&self, wait: Wait) -> std::io::Result<()> {
        match wait {
            Wait::Write => {
                let fd = self.write.as_ref().unwrap_or(&self.read);
                fd.writable().await?.clear_ready();
            }
            _ => self.read.readable().await?.clear_ready(),
        }
        Ok(())
    }
}

/// A flow slot while a task drives it.
struct Task {
    slot: FlowSlot,
    done: bool,
}

/// One flow as a task: step, then await what the flow waits for (or its deadline).
async fn run_flow(task: Arc<TaskMutex<Task>>) -> Result<()> {
    // Locked once for the task's life, never per message: nothing else touches the slot until
    // the task ends.
    let mut guard = task.lock().await;
    let task = &mut *guard;
    let slot = &mut task.slot;
    let mut registered: Option<Registered> = None;
    loop {
        let wait = slot.flow.progress(&mut slot.conn)?;
        if wait == Wait::Done {
            task.done = true;
            return Ok(());
        }
        if registered.as_ref().is_none_or(|r| r.conn != slot.conn.id()) {
            // Drop the old registration first: the replaced connection is still open.
            drop(registered.take());
            registered = Some(Registered::new(slot).context("registering with tokio's reactor")?);
        }
        let r = registered.as_ref().expect("registered above");
        match slot.flow.deadline_ns() {
            Some(at) => {
                let left = Duration::from_nanos(at.saturating_sub(monotonic_ns()));
                tokio::select! {
                    ready = r.ready(wait) => ready?,
                    _ = tokio::time::sleep(left) => {}
                }
            }
            None => r.ready(wait).await?,
        }
    }
}

/// Waits until the runner stops running, looking every `tick`.
async fn watch(control: &Control, tick: Duration) -> RunState {
    loop {
        tokio::time::sleep(tick).await;
        let state = control.state();
        if state != RunState::Running {
            return state;
        }
    }
}

thread_local! {
    static STARTED: Cell<ThreadUsage> = Cell::new(ThreadUsage::default());
}

impl Tokio {
    /// The runtime, and where its helper threads add their usage when they stop.
    fn runtime(&self) -> Result<(tokio::runtime::Runtime, Arc<Mutex<ThreadUsage>>)> {
        let helpers = Arc::new(Mutex::new(ThreadUsage::default()));
        let rt = if self.multi_thread {
            let sum = helpers.clone();
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("lb-tokio")
                .on_thread_start(|| STARTED.with(|s| s.set(ThreadUsage::now())))
                .on_thread_stop(move || {
                    let used = ThreadUsage::now() - STARTED.with(Cell::get);
                    // Once per helper thread at shutdown, not on the measured path.
                    if let Ok(mut total) = sum.lock() {
                        *total = *total + used;
                    }
                })
                .enable_all()
                .build()
        } else {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        };
        Ok((rt.context("building the tokio runtime")?, helpers))
    }
}

impl Engine for Tokio {
    fn kind(&self) -> EngineKind {
        if self.multi_thread {
            EngineKind::TokioMt
        } else {
            EngineKind::Tokio
        }
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
        let (rt, helpers) = self.runtime()?;
        let shared: Vec<Arc<TaskMutex<Task>>> = slots
            .drain(..)
            .map(|slot| Arc::new(TaskMutex::new(Task { slot, done: false })))
            .collect();
        let outcome: Result<Option<RunState>> = rt.block_on(async {
            let tasks: Vec<_> = shared
                .iter()
                .map(|s| tokio::spawn(run_flow(s.clone())))
                .collect();
            let all = async {
                for t in tasks {
                    t.await.map_err(|e| anyhow!("a flow task failed: {e}"))??;
                }
                Ok::<(), anyhow::Error>(())
            };
            tokio::select! {
                r = all => r.map(|_| None),
                state = watch(control, tick) => Ok(Some(state)),
            }
        });
        // Stops every task still waiting and joins the runtime's threads (their usage is added
        // to `helpers` as they stop).
        rt.shutdown_timeout(Duration::from_secs(2));
        let mut unfinished = Vec::new();
        for s in shared {
            let task = Arc::try_unwrap(s)
                .map_err(|_| anyhow!("a flow task outlived its runtime"))?
                .into_inner();
            if !task.done {
                unfinished.push(slots.len());
            }
            slots.push(task.slot);
        }
        match outcome? {
            None => {}
            Some(RunState::Abort) => return Err(Aborted.into()),
            Some(_) => {
                // Wound down: take what is already queued, without waiting again.
                for i in unfinished {
                    let slot = &mut slots[i];
                    slot.flow.progress(&mut slot.conn)?;
                }
            }
        }
        let used = *helpers
            .lock()
            .map_err(|_| anyhow!("tokio helper accounting poisoned"))?;
        Ok(used)
    }
}
